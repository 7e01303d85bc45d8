"""The frame decoder and the receiver's guard against garbage: only their own errors escape.

Fixed seed (derandomized) and a bounded number of examples, so CI runs the
same cases every time; set FUZZ_EXAMPLES to search longer by hand.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import struct
from typing import Any

import msgpack
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from receiver.guard import Guard, Rejected
from supervisor.ops.stats import Stats
from tests.support import expected_tone
from uplink_frame import Frame, FrameError, decode, encode, from_dict
from uplink_runtime.child import decode_heartbeat

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "400")),
    derandomize=True,  # the fixed seed: same examples on every run
    database=None,
    deadline=None,  # a shared, busy machine: never fail on time
    suppress_health_check=[HealthCheck.too_slow],
)
GOOD = Frame("main", 7, 1_700_000_000.5, 16000, 1, expected_tone(1)).to_dict()
GOOD_BYTES = encode(Frame("main", 7, 1_700_000_000.5, 16000, 1, expected_tone(1)))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=80),
    st.binary(max_size=700),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=20,
)


def decode_only_frame_error(raw: bytes) -> None:
    """Garbage gives FrameError; whatever decodes is a frame docs/design.md allows."""
    try:
        frame = decode(raw)
    except FrameError:
        return
    assert_a_valid_frame(frame, raw)


def assert_a_valid_frame(frame: Frame, raw: bytes) -> None:
    """The frame format's rules, written out here from docs/design.md, not taken from decode."""
    obj = msgpack.unpackb(raw, raw=False)
    assert obj == frame.to_dict()  # exactly the fields sent, none invented, none dropped
    assert re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", frame.stream)
    assert 0 <= frame.seq < 2**63 and 8000 <= frame.rate <= 192000 and 1 <= frame.channels <= 8
    assert math.isfinite(frame.t_capture) and frame.t_capture > 0
    assert type(frame.seq) is int and type(frame.t_capture) is float
    if frame.codec == "pcm":
        assert len(frame.audio) % (2 * frame.channels) == 0
        assert 2.5 <= len(frame.audio) / (2 * frame.channels) / frame.rate * 1000 <= 1000
    assert decode(encode(frame)) == frame


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes(raw: bytes) -> None:
    decode_only_frame_error(raw)


@FUZZ
@given(st.sampled_from(sorted(GOOD)), values)
def test_one_field_replaced(key: str, value: Any) -> None:
    decode_only_frame_error(msgpack.packb(GOOD | {key: value}, use_bin_type=True))


@FUZZ
@given(st.dictionaries(st.sampled_from([*GOOD, "extra", ""]), values, max_size=12))
def test_maps_of_frame_like_fields(obj: dict[str, Any]) -> None:
    decode_only_frame_error(msgpack.packb(obj, use_bin_type=True))
    with contextlib.suppress(FrameError):
        from_dict(obj)


@FUZZ
@given(values)
def test_guard_refuses_anything_with_its_own_error(payload: Any) -> None:
    guard = Guard(max_message_bytes=4096, token=None)
    try:
        guard.frames(payload)
    except Rejected as exc:
        assert exc.reason in ("malformed", "oversized", "codec")
    assert sum(guard.counts.values()) <= 1


def corpus() -> list[bytes]:
    """Truncations, bit flips, and hand-made msgpack that has hurt parsers before."""
    cases = [GOOD_BYTES[:n] for n in range(len(GOOD_BYTES))]
    for i in range(0, len(GOOD_BYTES), 3):
        for mask in (0x01, 0x80, 0xFF):
            flipped = bytearray(GOOD_BYTES)
            flipped[i] ^= mask
            cases.append(bytes(flipped))
    cases += [
        b"\xdb\xff\xff\xff\xff",  # str32 claiming 4 GiB
        b"\xc6\xff\xff\xff\xff" + b"\0" * 16,  # bin32 claiming 4 GiB
        b"\xdd\xff\xff\xff\xff",  # array32 claiming 4 G items
        b"\xdf\xff\xff\xff\xff",  # map32 claiming 4 G pairs
        b"\x91" * 100_000,  # deeply nested arrays
        b"\x81" * 50_000 + b"\xc0",  # deeply nested maps
        b"\xc7\x01\x05\x00",  # ext type
        b"\xd9\x03\xff\xfe\xfd",  # invalid utf-8 in a str
        b"\x81\x01\x02",  # int map key
        b"\x81\xc0\xc0",  # nil map key
        b"\xc1",  # never used byte
        b"\xcf" + b"\xff" * 8,  # uint64 max
        b"\x82\xa1v\x01\xa1v\x02",  # duplicate keys
        GOOD_BYTES + b"\x00",  # trailing data
        GOOD_BYTES * 2,
        msgpack.packb(GOOD | {"t_capture": float("nan")}, use_bin_type=True),
        msgpack.packb(GOOD | {"seq": 2**64 - 1}, use_bin_type=True),
        msgpack.packb(GOOD | {"audio": "text, not bytes"}, use_bin_type=True),
        msgpack.packb(GOOD | {"v": True}, use_bin_type=True),
        struct.pack(">B", 0x80),  # an empty map
        b"",
    ]
    return cases


def test_corpus() -> None:
    escaped = []
    for i, raw in enumerate(corpus()):
        try:
            decode_only_frame_error(raw)
        except Exception as exc:  # collect them all: one run shows every escape
            escaped.append(f"case {i} ({raw[:16]!r}...): {type(exc).__name__}: {exc}")
    assert not escaped, "\n".join(escaped)


def test_the_good_frame_still_decodes() -> None:
    """Guards the fuzz tests against testing nothing: the base case is valid."""
    assert decode(GOOD_BYTES).seq == 7


@FUZZ
@given(
    st.dictionaries(st.sampled_from(["name", "pid", "counters", "hist", "info", "t"]), values)
    | values
)
def test_heartbeat_decoder_raises_only_value_error(obj: Any) -> None:
    raw = msgpack.packb(obj, use_bin_type=True)
    try:
        msg = decode_heartbeat(raw)
    except ValueError:
        return
    Stats().update(msg)  # what the supervisor does next must not raise either
