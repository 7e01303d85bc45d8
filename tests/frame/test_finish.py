"""The back-channel message: round trip, and every malformed input refused with a reason."""

from __future__ import annotations

import msgpack
import pytest

from uplink_frame.finish import (
    MAX_RANGES,
    Fate,
    FinishError,
    Report,
    decode,
    encode,
    finish_endpoint,
    ranges,
)


def test_round_trip_and_ranges() -> None:
    report = Report(ranges([5, 1, 2, 3, 9]), [(Fate.ACKED, 1, 3), (Fate.STALE, 7, 7)], bye=True)
    assert report.took == [(1, 3), (5, 5), (9, 9)]
    assert decode(encode(report)) == report


@pytest.mark.parametrize(
    "body",
    [
        [1, 2],
        {"took": [], "fin": []},
        {"took": [[3, 1]], "fin": [], "bye": False},
        {"took": [[1, True]], "fin": [], "bye": False},
        {"took": [[-1, 2]], "fin": [], "bye": False},
        {"took": [], "fin": [[99, 1, 2]], "bye": False},
        {"took": [], "fin": [[[0], 1, 2]], "bye": False},
        {"took": [], "fin": [[0, 1]], "bye": False},
        {"took": [], "fin": [], "bye": 1},
        {"took": [[1, 2]] * (MAX_RANGES + 1), "fin": [], "bye": False},
    ],
)
def test_bad_messages_are_refused(body: object) -> None:
    with pytest.raises(FinishError):
        decode(msgpack.packb(body))


def test_garbage_and_oversized_bytes_are_refused() -> None:
    for raw in (b"\xc1\xc1", b"\x00" * (1 << 17)):
        with pytest.raises(FinishError):
            decode(raw)


def test_the_back_channel_sits_beside_the_data_endpoint() -> None:
    assert finish_endpoint("ipc:///run/u/capture-main.sock") == "ipc:///run/u/capture-main-fin.sock"
    assert finish_endpoint("tcp://127.0.0.1:5555") == "tcp://127.0.0.1:5556"
