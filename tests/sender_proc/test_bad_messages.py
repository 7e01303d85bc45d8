"""A real sender fed garbage on its ZeroMQ socket counts it and keeps sending good frames."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest
import zmq

from sender_proc.config import SenderConfig
from supervisor.child import ChildSpec, decode_heartbeat, save_config
from tests.receivers import start_receiver, stop_receiver
from tests.support import Procs, expected_tone, poll_for, read_wav
from uplink_frame import Frame, encode

GARBAGE = [
    b"",
    b"\xc1",
    b"\x91" * 10_000,
    msgpack.packb({"v": 1}),
    msgpack.packb(Frame("s", 0, 1.0, 16000, 1, expected_tone(1)).to_dict() | {"codec": []}),
    encode(Frame("s", 0, 1.0, 16000, 1, expected_tone(1)))[:-5],
]


@pytest.fixture
def ipc_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="au-", dir="/tmp") as path:  # ipc paths stay short
        yield Path(path)


def test_sender_counts_bad_messages_and_carries_on(
    procs: Procs, tmp_path: Path, ipc_dir: Path
) -> None:
    out = tmp_path / "rec"
    url, receiver = start_receiver(procs, out)
    ctx: zmq.Context[Any] = zmq.Context()
    stats, push = ctx.socket(zmq.PULL), ctx.socket(zmq.PUSH)
    try:
        stats.bind(f"ipc://{ipc_dir / 'stats.sock'}")
        push.bind(f"ipc://{ipc_dir / 'capture.sock'}")
        spec = ChildSpec("sender-1", "sender", f"ipc://{ipc_dir / 'stats.sock'}", os.getpid())
        config = SenderConfig(spec, (f"ipc://{ipc_dir / 'capture.sock'}",), url)
        save_config(config, tmp_path / "sender.json")
        sender = procs.start(
            [sys.executable, "-m", "sender_proc", "--config", str(tmp_path / "sender.json")]
        )
        assert push.poll(30_000, zmq.POLLOUT), "the sender never attached to our PUSH"
        frames = [
            Frame("s", seq, time.time(), 16000, 1, expected_tone(1, first_seq=seq))
            for seq in range(10)
        ]
        for i, frame in enumerate(frames):
            push.send(encode(frame))
            push.send(GARBAGE[i % len(GARBAGE)])

        last: dict[str, int] = {}

        def counters() -> dict[str, int] | None:
            while stats.poll(100):
                last.update(decode_heartbeat(stats.recv())["counters"])
            return last if last.get("acked") == len(frames) else None

        try:
            final = poll_for(counters, timeout=30)
        except AssertionError:
            raise AssertionError(f"sender's last counters: {last}") from None
        assert final["bad_frame"] == len(frames)  # one garbage message after each frame
        assert sender.poll() is None  # still running
        sender.terminate()
        sender.wait(timeout=30)
    finally:
        push.close(linger=0)
        stats.close(linger=0)
        ctx.term()
    stop_receiver(receiver, out)
    _, audio = read_wav(out / "s.wav")
    assert audio == expected_tone(len(frames))
