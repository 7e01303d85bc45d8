"""A real python-socketio server with injected misbehaviour, for flow-control tests and bench.

    python -m testkit.fake_server --port P --log FILE [--handle-ms 100] [--no-ack] [--close-after N]

Handles one event at a time in arrival order (``async_handlers=False``),
taking ``--handle-ms`` per frame (a slow server), and acks like the
reference receiver unless ``--no-ack`` (a Node.js handler that ignores the
callback); ``--close-after N`` closes the client's connection once, right
after handling N frames, with frames in flight. Every frame it handles is
appended to ``--log`` as one line
``stream seq t_ready t_handler`` (Unix times), so a test can check order and
latency from capture (last sample) to the handler. Freeze it with SIGSTOP,
kill it, restart it on the same port with the same log to append.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import socketio
from aiohttp import web
from socketio import packet

from uplink_frame import FrameError, from_dict
from uplink_frame.batch import from_batch, is_batch


class _Server(socketio.AsyncServer):  # type: ignore[misc]
    acks = True

    async def _send_packet(self, eio_sid: str, pkt: Any) -> None:
        if self.acks or pkt.packet_type != packet.ACK:
            await super()._send_packet(eio_sid, pkt)


class FakeServer:
    def __init__(
        self, log: TextIO, handle_s: float, acks: bool, event: str, close_after: int = 0
    ) -> None:
        self.log = log
        self.handle_s = handle_s
        self.close_after = close_after
        self.handled = 0
        self.sio = _Server(async_mode="aiohttp", async_handlers=False, transports=["websocket"])
        self.sio.acks = acks
        self.sio.on(event, self.on_frame)

    async def on_frame(self, sid: str, data: Any = None) -> dict[str, Any]:
        try:
            frames = from_batch(data) if is_batch(data) else [from_dict(data)]
        except FrameError as exc:
            return {"ok": False, "error": str(exc)}
        for frame in frames:
            now = time.time()
            self.log.write(f"{frame.stream} {frame.seq} {frame.t_ready:.6f} {now:.6f}\n")
            if self.handle_s:
                await asyncio.sleep(self.handle_s)
        self.log.flush()
        self.handled += len(frames)
        if self.close_after and self.handled >= self.close_after:
            self.close_after = 0
            await self.sio.disconnect(sid)  # this emit's ack and those queued behind it are lost
        return {"ok": True}


async def serve(port: int, log_path: Path, server: FakeServer) -> None:
    with log_path.open("a", buffering=1) as log:
        server.log = log
        app = web.Application()
        server.sio.attach(app)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, reuse_address=True).start()
        print(f"fake server listening on http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()


def read_log(path: Path) -> list[tuple[str, int, float, float]]:
    """The frames a fake server handled, in handling order."""
    rows = []
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 4:
                rows.append((parts[0], int(parts[1]), float(parts[2]), float(parts[3])))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m testkit.fake_server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--handle-ms", type=float, default=0.0)
    parser.add_argument("--no-ack", dest="acks", action="store_false")
    parser.add_argument("--event", default="audio_data")
    parser.add_argument("--close-after", type=int, default=0)
    args = parser.parse_args()
    server = FakeServer(sys.stdout, args.handle_ms / 1000, args.acks, args.event, args.close_after)
    asyncio.run(serve(args.port, args.log, server))


if __name__ == "__main__":
    main()
