"""Capture's level fields in a heartbeat are checked like any other (supervisor/intake.py)."""

from __future__ import annotations

from typing import Any

import pytest

from supervisor.intake import Intake
from supervisor.ops.stats import Stats
from tests.supervisor.test_hostile_sockets import heartbeat
from uplink_runtime.roles import Role

GOOD = {"rms_db": -23.4, "peak_db": 0.0, "alarms": ["clipping", "silent"], "stream": "main"}


def accepted(**info: Any) -> bool:
    intake = Intake(Stats())
    intake.expect("capture", Role.CAPTURE, 4242)
    return intake.heartbeat([heartbeat("capture", 4242, role="capture", info=info)]) is not None


def test_levels_alarms_and_stream_within_bounds_are_accepted() -> None:
    assert accepted(**GOOD)
    assert accepted(rms_db=-120.0, peak_db=-120, alarms=[])
    assert accepted()  # a sender has none of them


@pytest.mark.parametrize(
    "bad",
    [
        {"rms_db": float("nan")},
        {"rms_db": float("-inf")},
        {"peak_db": 3.0},
        {"peak_db": -121.0},
        {"rms_db": "-20"},
        {"rms_db": True},
        {"alarms": ["bogus"]},
        {"alarms": "silent"},
        {"alarms": ["silent"] * 1000},
        {"alarms": [["silent"]]},
        {"stream": "x" * 65},
        {"stream": 7},
    ],
    ids=repr,
)
def test_out_of_range_levels_are_refused_and_counted(bad: dict[str, Any]) -> None:
    intake = Intake(Stats())
    intake.expect("capture", Role.CAPTURE, 4242)
    assert intake.heartbeat([heartbeat("capture", 4242, info={**GOOD, **bad})]) is None
    assert intake.stats.rejected["heartbeat_malformed"] == 1
