"""Format v3's silence run: one message standing for N silent frames, checked like any frame."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import msgpack
import pytest

from uplink_frame import Frame, FrameError, decode, encode, from_dict
from uplink_frame.batch import from_batch, to_batch

AUDIO = Frame("main", 7, 1_700_000_000.25, 16000, 1, bytes(640))
RUN = Frame("main", 8, 1_700_000_000.27, 16000, 1, b"", silent=50, frame_samples=320)


def test_a_run_round_trips_as_v3_and_stands_for_its_frames() -> None:
    assert RUN.to_dict()["v"] == 3 and AUDIO.to_dict()["v"] == 2
    decoded = decode(encode(RUN))
    assert decoded == RUN and from_dict(RUN.to_dict()) == RUN
    assert (decoded.frames, decoded.samples, AUDIO.frames) == (50, 320, 1)
    assert math.isclose(decoded.duration_s, 0.02)  # one frame's length, as for audio
    assert math.isclose(decoded.t_ready, RUN.t_capture + 1.0)  # the end of the run


def test_a_run_is_small_on_the_wire() -> None:
    assert len(encode(RUN)) < 128 < len(encode(AUDIO))


def packed(**changes: Any) -> bytes:
    packed: bytes = msgpack.packb(RUN.to_dict() | changes, use_bin_type=True)
    return packed


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"audio": bytes(640)}, "carries no audio"),
        ({"silent": 0}, "silent must be"),
        ({"silent": -1}, "silent must be"),
        ({"silent": True}, "silent must be"),
        ({"silent": 101}, "silent must be an integer in 1..100"),  # 2 s of 20 ms frames
        ({"silent": 2, "seq": (1 << 63) - 1}, "silent must be"),  # past the last seq
        ({"frame_samples": 0}, "frame_samples must be"),
        ({"frame_samples": 39}, "under 2.5 ms"),
        ({"frame_samples": 16001}, "frame_samples must be"),
        ({"frame_samples": 1.5}, "frame_samples must be"),
        ({"codec": "flac"}, "codec"),
        ({"extra": 1}, "unexpected ['extra']"),
    ],
)
def test_a_bad_run_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(FrameError, match=message.replace("[", r"\[").replace("]", r"\]")):
        decode(packed(**changes))


def test_a_v2_frame_with_run_fields_is_refused() -> None:
    with pytest.raises(FrameError, match=r"unexpected \['frame_samples', 'silent'\]"):
        from_dict(RUN.to_dict() | {"v": 2})


def test_a_batch_counts_a_run_as_its_frames() -> None:
    after = replace(AUDIO, seq=RUN.seq + RUN.silent)
    frames = [AUDIO, RUN, after]
    assert from_batch(to_batch(frames)) == frames
    with pytest.raises(FrameError, match="consecutive"):
        from_batch(to_batch([AUDIO, RUN, replace(after, seq=RUN.seq + 1)]))
