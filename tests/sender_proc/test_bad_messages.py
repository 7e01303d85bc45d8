"""A real sender fed garbage on its ZeroMQ socket counts it and keeps sending good frames."""

from __future__ import annotations

import time
from pathlib import Path

import msgpack

from tests.receivers import start_receiver, stop_receiver
from tests.sender_proc.conftest import LoneSender
from tests.support import Procs, expected_tone, read_wav
from uplink_frame import Frame, encode

GARBAGE = [
    b"",
    b"\xc1",
    b"\x91" * 10_000,
    msgpack.packb({"v": 1}),
    msgpack.packb(Frame("s", 0, 1.0, 16000, 1, expected_tone(1)).to_dict() | {"codec": []}),
    encode(Frame("s", 0, 1.0, 16000, 1, expected_tone(1)))[:-5],
]


def test_sender_counts_bad_messages_and_carries_on(
    procs: Procs, tmp_path: Path, lone_sender: LoneSender
) -> None:
    out = tmp_path / "rec"
    url, receiver = start_receiver(procs, out)
    sender = lone_sender.start(url)
    frames = [
        Frame("s", seq, time.time(), 16000, 1, expected_tone(1, first_seq=seq)) for seq in range(10)
    ]
    for i, frame in enumerate(frames):
        lone_sender.push.send(encode(frame))
        lone_sender.push.send(GARBAGE[i % len(GARBAGE)])
    final = lone_sender.wait_counter("acked", len(frames))
    assert final["bad_frame"] == len(frames)  # one garbage message after each frame
    assert sender.poll() is None  # still running
    sender.terminate()
    sender.wait(timeout=30)
    stop_receiver(receiver, out)
    _, audio = read_wav(out / "s.wav")
    assert audio == expected_tone(len(frames))
