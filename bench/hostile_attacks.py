"""The attacks bench/hostile.py runs, each in a process of its own.

    python bench/hostile_attacks.py NAME URL SECONDS


Each runs for about SECONDS against the receiver at URL, then prints one
JSON line: what it sent. Loopback only; every count and size is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import socketio

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from testkit.wire import RawSession, binary_header  # noqa: E402
from uplink_frame import Frame  # noqa: E402

MIB = 1 << 20
MALFORMED: list[str | bytes] = [
    "42[",
    '42{"a":1}',
    "42[1]",
    "49",
    '451-["audio_data",{"_placeholder":true,"num":7}]',
    "42" + "[" * 2000,
    b"\x00 an attachment nobody announced",
]
Sent = dict[str, int]


def frame(stream: str, seq: int, rate: int = 16000, channels: int = 1) -> dict[str, Any]:
    samples = rate // 50
    audio = b"\x00\x01" * samples * channels
    return Frame(stream, seq, time.time(), rate, channels, audio).to_dict()


async def _until(seconds: float, step: Callable[[], Awaitable[None]]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError, AssertionError):
            await asyncio.wait_for(step(), max(0.1, deadline - time.monotonic()))


async def _raw(http: aiohttp.ClientSession, url: str, connect: bool = True) -> RawSession:
    session = await RawSession.open(http, url)
    if connect:
        await session.connect()
    return session


async def unfinished_attachments(url: str, seconds: float, sent: Sent) -> None:
    """8 connections announce 64 attachments each and send 1 MiB ones that never complete."""

    async def one(http: aiohttp.ClientSession) -> None:
        session = await _raw(http, url)
        await session.send(binary_header(64))
        for _ in range(63):
            if session.ws.closed:
                return
            await session.send(b"\x00" * MIB)
            sent["bytes"] += MIB
        await session.closed_by_server(timeout=30)

    async with aiohttp.ClientSession() as http:
        await asyncio.gather(*(_until(seconds, lambda: one(http)) for _ in range(8)))


async def many_attachments(url: str, seconds: float, sent: Sent) -> None:
    async def one(http: aiohttp.ClientSession) -> None:
        session = await _raw(http, url)
        await session.send(binary_header(1).replace("451-", "45999999999-"))
        sent["packets"] += 1
        await session.closed_by_server(timeout=5)

    async with aiohttp.ClientSession() as http:
        await _until(seconds, lambda: one(http))


async def idle_sessions(url: str, seconds: float, sent: Sent) -> None:
    """Up to 2,000 Engine.IO sessions that never authenticate, reopened when closed."""

    async def hold(http: aiohttp.ClientSession) -> None:
        session = await _raw(http, url, connect=False)
        sent["sessions"] += 1
        await session.closed_by_server(timeout=seconds)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        await asyncio.gather(*(_until(seconds, lambda: hold(http)) for _ in range(2000)))


async def connection_flood(url: str, seconds: float, sent: Sent) -> None:
    """1,500 TCP connections that never send a request, reopened when closed."""
    host, port = url.removeprefix("http://").split(":")

    async def hold() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        sent["connections"] += 1
        try:
            await reader.read()
        finally:
            writer.close()

    await asyncio.gather(*(_until(seconds, hold) for _ in range(1500)))


async def malformed(url: str, seconds: float, sent: Sent) -> None:
    async def burst(http: aiohttp.ClientSession) -> None:
        session = await _raw(http, url)
        for _ in range(200):
            for message in MALFORMED:
                await session.send(message)
                sent["packets"] += 1
        await session.connect()  # a round trip, so the flood keeps pace with the server
        await session.close()

    async with aiohttp.ClientSession() as http:
        await _until(seconds, lambda: burst(http))


async def engineio_garbage(url: str, seconds: float, sent: Sent) -> None:
    async def one(http: aiohttp.ClientSession) -> None:
        session = await _raw(http, url, connect=False)
        await session.send("x")
        sent["packets"] += 1
        await session.closed_by_server(timeout=5)

    async with aiohttp.ClientSession() as http:
        await _until(seconds, lambda: one(http))


async def _sio(
    url: str, seconds: float, emit: Callable[[socketio.AsyncClient], Awaitable[None]]
) -> None:
    client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    await client.connect(url, transports=["websocket"], wait_timeout=10)
    try:
        await _until(seconds, lambda: emit(client))
    finally:
        await client.disconnect()


async def junk_streams(url: str, seconds: float, sent: Sent) -> None:
    async def emit(client: socketio.AsyncClient) -> None:
        await client.call("audio_data", frame(f"junk{sent['frames']}", 0), timeout=10)
        sent["frames"] += 1

    await _sio(url, seconds, emit)


async def forged_events(url: str, seconds: float, sent: Sent) -> None:
    async def emit(client: socketio.AsyncClient) -> None:
        for name in ("connect", "disconnect"):
            await client.emit(name, {"x": 1})
        await client.emit("audio_data", (frame("forged", 0), 2))  # two arguments
        sent["events"] += 3
        await client.call("audio_data", {"x": 1}, timeout=10)

    await _sio(url, seconds, emit)


async def gap_fill(url: str, seconds: float, sent: Sent) -> None:
    """Frames at 192 kHz x 8 channels whose seqs jump by 1,000: each gap is silence to write."""

    async def emit(client: socketio.AsyncClient) -> None:
        if sent["frames"] < 150:
            seq = sent["frames"] * 1000
            await client.call("audio_data", frame("gap", seq, 192000, 8), timeout=30)
            sent["frames"] += 1
        else:
            await asyncio.sleep(0.1)

    await _sio(url, seconds, emit)


async def blackhole(url: str, seconds: float, sent: Sent) -> None:
    """One valid frame far ahead in the good client's own stream."""

    async def emit(client: socketio.AsyncClient) -> None:
        if not sent["frames"]:
            await client.call("audio_data", frame("good", 10**12), timeout=10)
            sent["frames"] += 1
            sent["good_stream_frames"] += 1
        await asyncio.sleep(0.1)

    await _sio(url, seconds, emit)


ATTACKS: dict[str, Callable[[str, float, Sent], Awaitable[None]]] = {
    "unfinished attachments (14.2)": unfinished_attachments,
    "announce 10^9 attachments (14.2)": many_attachments,
    "idle sessions (14.4)": idle_sessions,
    "TCP connection flood (14.4)": connection_flood,
    "malformed Socket.IO (14.7)": malformed,
    "malformed Engine.IO (14.7)": engineio_garbage,
    "junk stream ids (14.6)": junk_streams,
    "forged connect/disconnect (14.8)": forged_events,
    "gap amplification (14.3)": gap_fill,
    "one frame far ahead (14.1)": blackhole,
}


def main() -> None:
    parser = argparse.ArgumentParser(description="One attack of bench/hostile.py.")
    parser.add_argument("name", choices=ATTACKS)
    parser.add_argument("url")
    parser.add_argument("seconds", type=float)
    args = parser.parse_args()
    name, url, seconds = args.name, args.url, args.seconds
    sent: Sent = dict.fromkeys(
        ("bytes", "packets", "sessions", "connections", "frames", "events", "good_stream_frames"),
        0,
    )
    with contextlib.suppress(Exception):
        asyncio.run(asyncio.wait_for(ATTACKS[name](url, seconds, sent), seconds + 10))
    print(json.dumps({k: v for k, v in sent.items() if v}), flush=True)


if __name__ == "__main__":
    main()
