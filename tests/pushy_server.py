"""A Socket.IO server that acks every frame and pushes binary packets it never finishes.

    python -m tests.pushy_server --announce N --chunk BYTES [--chunks K] [--every-ms MS]

Every ``--every-ms`` it sends each client a BINARY_EVENT header announcing
``--announce`` attachments, then ``--chunks`` attachments of ``--chunk``
bytes, and never the rest (issue 14 item 9: such a server grew a sender to
440 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from typing import Any

import socketio
from aiohttp import web


async def push(
    sio: socketio.AsyncServer, announce: int, chunks: list[bytes], every_s: float
) -> None:
    holders = [{"_placeholder": True, "num": i} for i in range(announce)]
    header = f"5{announce}-" + json.dumps(["push", holders])
    while True:
        await asyncio.sleep(every_s)
        for eio_sid in list(sio.eio.sockets):
            await sio.eio.send(eio_sid, header)
            for chunk in chunks:
                await sio.eio.send(eio_sid, chunk)


async def serve(announce: int, chunks: list[bytes], every_s: float) -> None:
    sio = socketio.AsyncServer(async_mode="aiohttp", async_handlers=False, transports=["websocket"])

    async def on_frame(sid: str, data: Any = None) -> dict[str, bool]:
        return {"ok": True}

    sio.on("audio_data", on_frame)
    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    print(f"pushy server listening on http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    pusher = asyncio.create_task(push(sio, announce, chunks, every_s))
    try:
        await stop.wait()
    finally:
        pusher.cancel()
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.pushy_server")
    parser.add_argument("--announce", type=int, default=1000)
    parser.add_argument("--chunk", type=int, default=1 << 20)
    parser.add_argument("--chunks", type=int, default=1)
    parser.add_argument("--every-ms", type=float, default=50)
    args = parser.parse_args()
    chunks = [b"\x01" * args.chunk] * args.chunks
    asyncio.run(serve(args.announce, chunks, args.every_ms / 1000))


if __name__ == "__main__":
    main()
