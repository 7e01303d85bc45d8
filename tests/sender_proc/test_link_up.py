"""Frames that wait for the Socket.IO link go out as soon as it is up, not with the next frame."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq

from sender_proc.config import SenderConfig
from supervisor.child import ChildSpec, decode_heartbeat, save_config
from tests.receivers import start_receiver, stop_receiver
from tests.support import Procs, expected_tone, poll_for, read_wav
from uplink_frame import Frame, encode

FRAMES = 10


@pytest.fixture
def ipc_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="au-", dir="/tmp") as path:  # ipc paths stay short
        yield Path(path)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_frames_held_while_down_are_sent_when_the_server_comes_up(
    procs: Procs, tmp_path: Path, ipc_dir: Path
) -> None:
    port = _free_port()
    ctx: zmq.Context[Any] = zmq.Context()
    stats, push = ctx.socket(zmq.PULL), ctx.socket(zmq.PUSH)
    try:
        stats.bind(f"ipc://{ipc_dir / 'stats.sock'}")
        push.bind(f"ipc://{ipc_dir / 'capture.sock'}")
        spec = ChildSpec("sender-1", "sender", f"ipc://{ipc_dir / 'stats.sock'}", os.getpid())
        config = SenderConfig(
            spec,
            (f"ipc://{ipc_dir / 'capture.sock'}",),
            f"http://127.0.0.1:{port}",
            max_latency_ms=60_000,  # nothing goes stale while the receiver starts
            backoff_max_ms=250,
        )
        save_config(config, tmp_path / "sender.json")
        sender = procs.start(
            [sys.executable, "-m", "sender_proc", "--config", str(tmp_path / "sender.json")]
        )
        assert push.poll(30_000, zmq.POLLOUT), "the sender never attached to our PUSH"
        for seq in range(FRAMES):
            tone = expected_tone(1, first_seq=seq)
            push.send(encode(Frame("s", seq, time.time(), 16000, 1, tone)))

        last: dict[str, Any] = {}

        def heartbeat() -> dict[str, Any]:
            while stats.poll(100):
                last.update(decode_heartbeat(stats.recv()))
            return last

        poll_for(lambda: heartbeat().get("counters", {}).get("received") == FRAMES, 30)
        assert not last["info"]["connected"]
        # the server comes up; capture sends nothing more that could wake the sender
        out = tmp_path / "rec"
        _, receiver = start_receiver(procs, out, "--port", str(port))
        try:
            poll_for(lambda: heartbeat()["counters"].get("acked") == FRAMES, 30)
        except AssertionError:
            raise AssertionError(f"sender's last heartbeat: {last}") from None
        sender.terminate()
        sender.wait(timeout=30)
    finally:
        push.close(linger=0)
        stats.close(linger=0)
        ctx.term()
    stop_receiver(receiver, out)
    _, audio = read_wav(out / "s.wav")
    assert audio == expected_tone(FRAMES)
