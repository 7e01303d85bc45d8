"""The frame codec: round trip, and every kind of malformed input rejected with FrameError."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import msgpack
import pytest

from uplink_frame import (
    MAX_MESSAGE_BYTES,
    Frame,
    FrameError,
    decode,
    encode,
    frame_bytes,
    from_dict,
)

AUDIO = bytes(range(256)) * 2 + bytes(128)  # 640 B: 20 ms of 16 kHz mono
GOOD = Frame("main", 7, 1_700_000_000.25, 16000, 1, AUDIO)


def mutated(**changes: Any) -> bytes:
    fields = GOOD.to_dict() | changes
    packed: bytes = msgpack.packb(
        {k: v for k, v in fields.items() if v is not _DROP}, use_bin_type=True
    )
    return packed


_DROP = object()


def test_round_trip_keeps_every_field() -> None:
    decoded = decode(encode(GOOD))
    assert decoded == GOOD
    assert decoded.samples == 320 and math.isclose(decoded.duration_s, 0.02)
    assert math.isclose(decoded.t_ready, GOOD.t_capture + 0.02)
    assert from_dict(GOOD.to_dict()) == GOOD


def test_v1_frames_are_refused_with_the_reason() -> None:
    v1 = {k: v for k, v in GOOD.to_dict().items() if k != "epoch"} | {"v": 1}
    with pytest.raises(FrameError, match="v1 is no longer accepted: v2 adds 'epoch'"):
        from_dict(v1)


def test_epoch_survives_the_round_trip() -> None:
    frame = replace(GOOD, epoch=(1 << 53) - 1)
    assert decode(encode(frame)) == frame and frame.to_dict()["v"] == 2


def test_stereo_48k_round_trip() -> None:
    frame = Frame("mic-2", 0, 1.5, 48000, 2, bytes(frame_bytes(48000, 10, 2)))
    assert decode(encode(frame)) == frame


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"v": 4}, "unsupported frame version 4, expected 2 or 3"),
        ({"v": 3}, "missing ['frame_samples', 'silent']"),
        ({"v": True}, "unsupported frame version True"),
        ({"v": 2.0}, "unsupported frame version 2.0"),
        ({"epoch": -1}, "epoch"),
        ({"epoch": 1 << 53}, "epoch"),
        ({"epoch": "7"}, "epoch"),
        ({"epoch": _DROP}, "missing ['epoch']"),
        ({"t_capture": 1e308}, "t_capture"),
        ({"t_capture": 0.0}, "t_capture"),
        ({"stream": ""}, "stream"),
        ({"stream": "a/b"}, "stream"),
        ({"stream": "x" * 65}, "stream"),
        ({"stream": 5}, "stream"),
        ({"seq": -1}, "seq"),
        ({"seq": 1.0}, "seq"),
        ({"seq": True}, "seq"),
        ({"t_capture": 5}, "t_capture"),
        ({"t_capture": float("nan")}, "t_capture"),
        ({"t_capture": float("inf")}, "t_capture"),
        ({"t_capture": -1.0}, "t_capture"),
        ({"rate": 7999}, "rate"),
        ({"rate": 200000}, "rate"),
        ({"rate": "16000"}, "rate"),
        ({"channels": 0}, "channels"),
        ({"channels": 9}, "channels"),
        ({"format": "f32le"}, "format"),
        ({"codec": "mp3"}, "codec"),
        ({"audio": "text"}, "audio must be bytes"),
        ({"audio": b""}, "audio length"),
        ({"audio": b"\0" * 641}, "audio length"),
        ({"audio": b"\0" * 40}, "outside"),  # 1.25 ms: shorter than any frame
        ({"audio": b"\0" * 32002 * 2}, "outside"),  # over a second
        ({"seq": _DROP}, "missing ['seq']"),
        ({"extra": 1}, "unexpected ['extra']"),
    ],
)
def test_malformed_field_is_rejected(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(FrameError, match=message.replace("[", r"\[").replace("]", r"\]")):
        decode(mutated(**changes))


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\xc1",  # never used in msgpack
        b"\x92\x01\x02",  # an array, not a map
        msgpack.packb("frame"),
        encode(GOOD)[:-10],  # truncated
        encode(GOOD) + b"\x00",  # trailing garbage
        msgpack.packb({1: 2}),
        msgpack.packb({"v": {"nested": [1, 2, 3]}}),
    ],
)
def test_garbage_is_rejected(raw: bytes) -> None:
    with pytest.raises(FrameError):
        decode(raw)


def test_oversized_message_is_rejected_before_parsing() -> None:
    with pytest.raises(FrameError, match="exceeds"):
        decode(b"\x00" * (MAX_MESSAGE_BYTES + 1))
    with pytest.raises(FrameError, match="exceeds"):
        decode(encode(GOOD), max_bytes=100)


def test_from_dict_rejects_non_maps() -> None:
    objs: tuple[object, ...] = (None, [], "x", 3)
    for obj in objs:
        with pytest.raises(FrameError):
            from_dict(obj)


def test_frame_bytes_needs_whole_samples() -> None:
    assert frame_bytes(16000, 20, 1) == 640
    assert frame_bytes(44100, 20, 2) == 882 * 4
    with pytest.raises(FrameError):
        frame_bytes(44100, 2.5, 1)  # 110.25 samples
    with pytest.raises(FrameError):
        frame_bytes(16000, 2000, 1)
