"""Frames that wait for the Socket.IO link go out as soon as it is up, not with the next frame."""

from __future__ import annotations

import time
from pathlib import Path

from tests.receivers import start_receiver, stop_receiver
from tests.sender_proc.conftest import LoneSender
from tests.support import Procs, expected_tone, read_wav
from uplink_frame import Frame, encode
from uplink_runtime.net import free_port

FRAMES = 10


def test_frames_held_while_down_are_sent_when_the_server_comes_up(
    procs: Procs, tmp_path: Path, lone_sender: LoneSender
) -> None:
    port = free_port()
    sender = lone_sender.start(
        f"http://127.0.0.1:{port}",
        max_latency_ms=60_000,  # nothing goes stale while the receiver starts
        backoff_max_ms=250,
    )
    for seq in range(FRAMES):
        tone = expected_tone(1, first_seq=seq)
        lone_sender.push.send(encode(Frame("s", seq, time.time(), 16000, 1, tone)))
    lone_sender.wait_counter("received", FRAMES)
    assert not lone_sender.last["info"]["connected"]
    # the server comes up; capture sends nothing more that could wake the sender
    out = tmp_path / "rec"
    _, receiver = start_receiver(procs, out, "--port", str(port))
    lone_sender.wait_counter("acked", FRAMES)
    sender.terminate()
    sender.wait(timeout=30)
    stop_receiver(receiver, out)
    _, audio = read_wav(out / "s.wav")
    assert audio == expected_tone(FRAMES)
