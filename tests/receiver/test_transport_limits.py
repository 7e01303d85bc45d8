"""A receiver under hostile peers (issue 14 items 2, 4, 5, 7): bounded, counted, quiet, stoppable.

Each attack runs over raw websockets (testkit/wire.py) while a python-socketio
client streams real frames; the good client's frames must all be acked and
written bit-exact.
"""

from __future__ import annotations

import asyncio
import resource
import signal
import subprocess
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import aiohttp
import socketio

from receiver.limits import FD_RESERVE
from testkit.wire import RawSession, binary_header
from tests.receiver.test_receiver import tone_frame
from tests.receivers import start_receiver, stop_receiver
from tests.support import Procs, expected_tone, read_wav

MIB = 1 << 20


async def stream_beside(
    url: str, attack: Callable[[], Coroutine[Any, Any, Any]], frames: int = 40
) -> Any:
    """Stream ``frames`` good frames (stream "good") while ``attack`` runs; its result."""
    client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    await client.connect(url, transports=["websocket"], wait_timeout=10)
    try:
        replies = [await client.call("audio_data", tone_frame(0, "good"), timeout=20)]
        task = asyncio.create_task(attack())  # the stream (and its file) is open before
        for seq in range(1, frames):
            replies.append(await client.call("audio_data", tone_frame(seq, "good"), timeout=20))
            await asyncio.sleep(0.02)
        result = await asyncio.wait_for(task, 60)
    finally:
        await client.disconnect()
    assert replies == [{"ok": True}] * frames
    return result


def assert_good_stream(out: Path, frames: int = 40) -> None:
    _, audio = read_wav(out / "good.wav")
    assert audio == expected_tone(frames)


async def connected(http: aiohttp.ClientSession, url: str) -> RawSession:
    session = await RawSession.open(http, url)
    assert (await session.connect()).startswith("40")
    return session


async def unfinished_attachments(url: str) -> list[bool]:
    """Four ways to hold attachments; each connection must be closed by the server."""
    async with aiohttp.ClientSession() as http:
        too_many, too_big, slow = [await connected(http, url) for _ in range(3)]
        await too_many.send(binary_header(65))  # over max_attachments
        await too_big.send(binary_header(64))
        for _ in range(3):  # 3 MiB: over one packet's cap (2 x 1 MiB + framing)
            await too_big.send(b"\x00" * MIB)
        hoarders = [await connected(http, url) for _ in range(3)]
        for hoarder in hoarders:  # 3 x 1.5 MiB > 4 MiB for all connections: the oldest goes
            await hoarder.send(binary_header(64))
            await hoarder.send(b"\x00" * (3 * MIB // 2))
        await slow.send(binary_header(64))
        await slow.send(b"\x00" * 1000)  # then nothing: the timeout closes it
        sessions = [too_many, too_big, slow, hoarders[0]]
        return [await s.closed_by_server(timeout=20) for s in sessions]


def test_unfinished_attachments_are_bounded(procs: Procs, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    url, proc = start_receiver(
        procs,
        out,
        "--max-pending-attachment-bytes",
        str(4 * MIB),
        "--attachment-timeout-ms",
        "1500",
    )
    closed = asyncio.run(stream_beside(url, lambda: unfinished_attachments(url)))
    assert closed == [True, True, True, True]
    stats = stop_receiver(proc, out)
    assert stats["refused_attachment_count"] == 1
    assert stats["refused_attachment_bytes"] == 1
    assert stats["refused_attachment_timeout"] >= 1
    assert stats["refused_attachment_total"] >= 1
    assert_good_stream(out)


MALFORMED: list[str | bytes] = [
    "42[",  # undecodable JSON
    '42{"a":1}',  # an event that is not a list
    "42[1]",  # an event name that is not a string
    "49",  # unknown Socket.IO packet type
    '451-["audio_data",{"_placeholder":true,"num":7}]',  # placeholder past its attachments
    "42" + "[" * 5000,  # nesting python's json cannot take
    b"\x00\x01 an attachment nobody announced",
]


async def malformed_flood(url: str, rounds: int) -> None:
    async with aiohttp.ClientSession() as http:
        session = await connected(http, url)
        for _ in range(rounds):
            for message in MALFORMED:
                await session.send(message)
        for _ in range(5):  # an Engine.IO packet python-engineio cannot decode closes the link
            raw = await RawSession.open(http, url)
            await raw.send("x")
            assert await raw.closed_by_server()
        await session.connect()  # a round trip: the server has read everything before it


def test_malformed_packets_are_counted_and_logged_once_per_100(
    procs: Procs, tmp_path: Path
) -> None:
    out, rounds = tmp_path / "rec", 300
    proc = procs.start(receiver_cmd(out), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = announced_url(proc)
    asyncio.run(stream_beside(url, lambda: malformed_flood(url, rounds)))
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=15)
    stats = stop_stats(out)
    assert stats["malformed_packets"] == rounds * len(MALFORMED) + 5
    assert "Traceback" not in err
    assert len(err.splitlines()) <= 3 * len(MALFORMED) + 10, err  # ceil(300/100) per kind
    assert_good_stream(out)


def stop_stats(out: Path) -> dict[str, Any]:
    import json

    return dict(json.loads((out / "stats.json").read_text()))


async def session_flood(url: str, count: int) -> tuple[int, int]:
    """``count`` sessions that never authenticate: (refused at open, closed by the server)."""
    async with aiohttp.ClientSession() as http:
        opened: list[RawSession] = []
        refused = 0
        for _ in range(count):
            try:
                opened.append(await RawSession.open(http, url))
            except aiohttp.ClientError:  # reset at once: no HTTP answer for a refusal
                refused += 1
        closed = await asyncio.gather(*(s.closed_by_server(timeout=20) for s in opened))
        return refused, sum(closed)


def test_sessions_are_limited_and_must_authenticate(procs: Procs, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    url, proc = start_receiver(
        procs, out, "--max-sessions-per-peer", "20", "--auth-timeout-ms", "1000"
    )
    refused, closed = asyncio.run(stream_beside(url, lambda: session_flood(url, 40)))
    # the good client holds one of the 20: 19 idle ones admitted, then closed unauthenticated
    assert (refused, closed) == (21, 19)
    stats = stop_receiver(proc, out)
    assert stats["refused_sessions_peer"] >= 21  # aiohttp's client retries a reset GET once
    assert stats["refused_auth_timeout"] == 19
    assert_good_stream(out)


def _low_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (160, 160))


async def tcp_flood(url: str, count: int, hold_s: float) -> int:
    """``count`` websocket attempts at once, held open ``hold_s``; how many got a session."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        results = await asyncio.gather(
            *(RawSession.open(http, url) for _ in range(count)), return_exceptions=True
        )
        sessions = [r for r in results if isinstance(r, RawSession)]
        await asyncio.sleep(hold_s)
        for session in sessions:
            await session.close()
        return len(sessions)


async def flood_then_reconnect(url: str) -> int:
    """A flood while the good stream runs, then a new client must get in and be acked."""
    admitted = await tcp_flood(url, 400, hold_s=3.0)
    client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    for _ in range(100):  # the flood's sockets close within a few seconds
        try:
            await client.connect(url, transports=["websocket"], wait_timeout=5)
            break
        except socketio.exceptions.ConnectionError:
            await asyncio.sleep(0.1)
    try:
        assert await client.call("audio_data", tone_frame(0, "late"), timeout=10) == {"ok": True}
    finally:
        await client.disconnect()
    return admitted


def test_a_connection_flood_under_a_low_fd_limit_is_survived_quietly(
    procs: Procs, tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    proc = procs.start(
        [*receiver_cmd(out), "--max-sessions-per-peer", "1000", "--auth-timeout-ms", "60000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_low_fd_limit,
    )
    url = announced_url(proc)
    started = time.monotonic()
    admitted = asyncio.run(stream_beside(url, lambda: flood_then_reconnect(url), frames=200))
    elapsed = time.monotonic() - started
    assert 0 < admitted <= 160 - FD_RESERVE  # capped by the fd limit less the reserve
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert len(err) <= 2000 + 1000 * elapsed, err[-3000:]  # no flood of tracebacks
    stats = stop_stats(out)
    assert stats["refused_connections"] > 0 and stats["accept_errors"] == 0
    assert_good_stream(out, 200)


def receiver_cmd(out: Path) -> list[str]:
    import sys

    return [sys.executable, "-m", "receiver", "--port", "0", "--out", str(out)]


def announced_url(proc: subprocess.Popen[str]) -> str:
    import re

    assert proc.stdout is not None
    match = re.search(r"http://[\d.]+:\d+", proc.stdout.readline())
    assert match
    return match.group(0)


async def hold_then_stop(url: str, proc: subprocess.Popen[str]) -> float:
    """Clients connected (one mid-way through a binary packet): SIGTERM; seconds to exit."""
    async with aiohttp.ClientSession() as http:
        idle = await connected(http, url)
        await idle.send(binary_header(2))
        await idle.send(b"\x00" * 100)
        client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        await client.connect(url, transports=["websocket"], wait_timeout=10)
        for seq in range(10):
            assert await client.call("audio_data", tone_frame(seq, "good"), timeout=10)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        while proc.poll() is None and time.monotonic() - started < 30:
            await asyncio.sleep(0.02)
        await client.disconnect()
        return time.monotonic() - started


def test_sigterm_with_clients_connected_stops_promptly(procs: Procs, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    url, proc = start_receiver(procs, out)
    took = asyncio.run(hold_then_stop(url, proc))
    assert proc.returncode == 0
    assert took < 3.0  # was 30-45 s: aiohttp waited for every websocket to end on its own
    assert stop_stats(out)["frames"] == 10
    assert_good_stream(out, 10)
