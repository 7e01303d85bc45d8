"""Opus frames: real packets from libopus pass with their duration known; malformed ones do not."""

from __future__ import annotations

import math

import pytest

from tests.support import expected_tone
from uplink_frame import Frame, FrameError, decode, encode, from_dict
from uplink_frame.codec import OpusEncoder


def opus_frame(rate: int = 16000, frame_ms: float = 20.0, channels: int = 1) -> Frame:
    samples = round(rate * frame_ms / 1000)
    pcm = expected_tone(1, samples, rate) if channels == 1 else _stereo(samples, rate)
    packet = OpusEncoder(rate, channels, 24000, "voip").encode(pcm)
    return Frame("main", 3, 1_700_000_000.5, rate, channels, packet, "opus")


def _stereo(samples: int, rate: int) -> bytes:
    mono = expected_tone(1, samples, rate)
    return b"".join(mono[i : i + 2] * 2 for i in range(0, len(mono), 2))


@pytest.mark.parametrize(
    ("rate", "frame_ms", "channels"),
    [(16000, 20.0, 1), (48000, 2.5, 1), (8000, 60.0, 1), (24000, 40.0, 2), (12000, 10.0, 1)],
)
def test_a_real_packet_round_trips_and_knows_its_duration(
    rate: int, frame_ms: float, channels: int
) -> None:
    frame = opus_frame(rate, frame_ms, channels)
    assert decode(encode(frame)) == frame
    assert frame.samples == round(rate * frame_ms / 1000)
    assert math.isclose(frame.duration_s, frame_ms / 1000)
    assert math.isclose(frame.t_ready, frame.t_capture + frame_ms / 1000)


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"audio": b""}, "at least one byte"),
        ({"audio": bytes([0x4B])}, "without a frame count"),  # code 3, no count byte
        ({"audio": bytes([0x4B, 0x00])}, "without a frame count"),  # code 3, zero frames
        ({"audio": bytes([0x5B, 0x03])}, "180 ms exceeds 120"),  # 3 x 60 ms SILK frames
        ({"audio": bytes([0x48]) + bytes(1300)}, "larger than 1 frame"),
        ({"rate": 44100}, "not 44100"),
        ({"channels": 3}, "not 3"),
    ],
)
def test_malformed_opus_frames_are_refused(changes: dict[str, object], says: str) -> None:
    with pytest.raises(FrameError, match=says):
        from_dict(opus_frame().to_dict() | changes)
