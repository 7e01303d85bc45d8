"""Batches: N consecutive frames of one stream, validated as strictly as single frames."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from uplink_frame import Frame, FrameError
from uplink_frame.batch import MAX_BATCH, from_batch, is_batch, to_batch

FIRST = Frame("main", 7, 1_700_000_000.25, 16000, 1, bytes(640))


def run_of(n: int, start: int = 7) -> list[Frame]:
    return [replace(FIRST, seq=start + i, t_capture=FIRST.t_capture + 0.02 * i) for i in range(n)]


def test_round_trip() -> None:
    frames = run_of(5)
    batch = to_batch(frames)
    assert is_batch(batch) and not is_batch(FIRST.to_dict())
    assert batch["n"] == 5 and from_batch(batch) == frames


@pytest.mark.parametrize(
    ("batch", "says"),
    [
        ({**to_batch(run_of(3)), "n": 2}, "must match"),
        ({**to_batch(run_of(3)), "extra": 1}, "exactly"),
        ({**to_batch(run_of(3)), "v": 1}, "version"),
        ({"v": 2, "n": 0, "frames": []}, "must match"),
        (to_batch(run_of(MAX_BATCH + 1)), "must match"),
        (to_batch([*run_of(2), *run_of(1, start=20)]), "consecutive"),
        (to_batch([*run_of(1), replace(FIRST, stream="other", seq=8)]), "one stream"),
        (to_batch([*run_of(1), replace(FIRST, epoch=9, seq=8)]), "one stream and epoch"),
        ({"v": 2, "n": 1, "frames": [{**FIRST.to_dict(), "rate": 0}]}, "rate"),
        ({"v": 2, "n": 1, "frames": "x"}, "list"),
    ],
)
def test_bad_batches_are_refused(batch: Any, says: str) -> None:
    with pytest.raises(FrameError, match=says):
        from_batch(batch)
