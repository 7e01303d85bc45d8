"""Hostile Socket.IO clients and garbage heartbeats while a good pipeline streams bit-exact."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import msgpack
import socketio
import zmq

from tests.receiver.test_receiver import tone_frame
from tests.receivers import start_receiver, stop_receiver
from tests.support import Procs, expected_tone, poll_for, read_wav, start_supervisor

LIMIT = 64 * 1024
MALFORMED: list[Any] = [
    "not a map",
    [1, 2, 3],
    {"v": 1},
    tone_frame(1, "h") | {"audio": b"\0" * 3},
    tone_frame(1, "h") | {"seq": -1},
    tone_frame(1, "h") | {"t_capture": "yesterday"},
    tone_frame(1, "h") | {"extra": 1},
    {"v": 1, "n": 2, "frames": [tone_frame(1, "h")]},  # a batch that lies about its size
    {"v": 1, "n": 2, "frames": [tone_frame(1, "h"), tone_frame(5, "h")]},  # not consecutive
]
CODECS: list[Any] = [tone_frame(1, "h") | {"codec": c} for c in ("mp3", "", ["pcm"], None)]
OVERSIZED: list[Any] = [tone_frame(1, "h") | {"audio": b"\0" * (LIMIT + 2)}]
GARBAGE_HEARTBEATS = [
    b"",
    b"\xc1",
    b"\x91" * 5000,
    msgpack.packb({"name": "sender-1", "pid": "x", "counters": {}, "hist": {}, "info": {}}),
    msgpack.packb(
        {"name": "sender-1", "pid": 1, "counters": {"acked": "9"}, "hist": {}, "info": {}}
    ),
    msgpack.packb({"name": "capture", "pid": 1, "counters": {}, "hist": {}, "info": []}),
    msgpack.packb({"name": "capture", "pid": 1, "counters": [], "hist": {}, "info": {}}),
]


async def hostile_session(url: str) -> list[Any]:
    """Every bad payload on one connection, then one far over the limit (the link is cut)."""
    client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    await client.connect(url, transports=["websocket"], wait_timeout=10)
    try:
        replies = [await client.call("audio_data", p, timeout=10) for p in MALFORMED + CODECS]
        replies += [await client.call("audio_data", p, timeout=10) for p in OVERSIZED]
        await client.emit("audio_data", tone_frame(1, "h") | {"audio": b"\0" * (3 * LIMIT)})
        for _ in range(200):  # up to 10 s for the server to cut us off
            if not client.connected:
                break
            await asyncio.sleep(0.05)
        replies.append({"cut_off": not client.connected})
    finally:
        await client.disconnect()
    return replies


def spam_heartbeats(run_dir: Path) -> None:
    ctx = zmq.Context()
    try:
        with ctx.socket(zmq.PUSH) as push:
            push.linger = 2000
            push.connect(f"ipc://{run_dir / 'stats.sock'}")
            for raw in GARBAGE_HEARTBEATS:
                push.send(raw)
    finally:
        ctx.term()


def test_hostile_clients_beside_a_good_stream(procs: Procs, run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    url, receiver = start_receiver(procs, out, "--max-message-bytes", str(LIMIT))
    run = start_supervisor(
        procs, run_dir, "--server", url, "--duration", "5", stdout=subprocess.PIPE, stderr=None
    )
    poll_for((out / "main.wav").exists, timeout=30)  # the good stream is flowing
    spam_heartbeats(run_dir)
    replies = asyncio.run(hostile_session(url))
    ended = run.wait(timeout=60)
    assert ended.code == 0

    assert all(r["ok"] is False and r["error"] for r in replies[:-1]), replies
    assert replies[-1] == {"cut_off": True}
    stats = stop_receiver(receiver, out)
    assert stats["rejected_malformed"] == len(MALFORMED)
    assert stats["rejected_codec"] == len(CODECS)
    assert stats["rejected_oversized"] == len(OVERSIZED)
    assert stats["disconnects_abnormal"] >= 1
    assert "h" not in stats["streams"]

    report = ended.report
    assert report["bad_heartbeats"] == len(GARBAGE_HEARTBEATS)
    assert report["frames"]["unaccounted"] == 0 and report["frames"]["acked"] > 0
    assert sum(report["frames"]["dropped"].values()) == 0
    _, audio = read_wav(out / "main.wav")
    assert audio == expected_tone(report["frames"]["captured"])
