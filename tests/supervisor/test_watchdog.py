"""The progress watchdog's clock: it runs while a child has work, not before."""

from __future__ import annotations

from typing import Any

from supervisor.watchdog import Health, Limits, verdict
from uplink_runtime.roles import Role

LIMITS = Limits(hang_timeout_s=2.0)


def sender_beat(acked: int, pending: int) -> dict[str, Any]:
    return {"counters": {"acked": acked}, "info": {"pending": pending, "inflight": 0}}


def test_a_sender_handed_its_first_frames_after_a_long_wait_is_not_hung() -> None:
    health = Health(started_at=0.0)
    for t in range(1, 7):  # six seconds connecting to a server that is not up yet
        health.beat(Role.SENDER, sender_beat(0, 0), float(t))
        assert verdict(health, LIMITS, float(t)) is None
    health.beat(Role.SENDER, sender_beat(0, 3), 6.25)  # capture starts; no ack yet
    assert verdict(health, LIMITS, 6.25) is None
    health.beat(Role.SENDER, sender_beat(0, 3), 8.0)
    assert verdict(health, LIMITS, 8.0) is None


def test_a_sender_holding_frames_without_progress_is_hung() -> None:
    health = Health(started_at=0.0)
    health.beat(Role.SENDER, sender_beat(10, 0), 1.0)
    health.beat(Role.SENDER, sender_beat(12, 4), 2.0)
    for t in (2.5, 3.0, 3.5, 4.0, 4.5):
        health.beat(Role.SENDER, sender_beat(12, 4), t)
    reason = verdict(health, LIMITS, 4.5)
    assert reason is not None and reason.startswith("hang: no progress for 2500 ms")


def test_a_capture_that_stops_capturing_is_hung_unless_it_waits_for_room() -> None:
    health = Health(started_at=0.0)
    for t in (1.0, 2.0, 3.5):
        health.beat(Role.CAPTURE, {"counters": {"captured": 50}, "info": {"waiting": True}}, t)
    assert verdict(health, LIMITS, 3.5) is None
    for t in (4.0, 5.0, 6.5):
        health.beat(Role.CAPTURE, {"counters": {"captured": 50}, "info": {}}, t)
    assert verdict(health, LIMITS, 6.5) is not None


def test_a_capture_suppressing_a_long_pause_is_not_hung() -> None:
    """Runs of silence go out once a second; each suppressed frame counts as it comes."""
    health, limits = Health(started_at=0.0), Limits(hang_timeout_s=0.5)
    for i in range(40):  # 10 s of pause, beats every 250 ms, captured moves once a second
        counters = {"captured": 50 * (i // 4), "suppressed": 12 * i}
        health.beat(Role.CAPTURE, {"counters": counters, "info": {}}, i * 0.25)
        assert verdict(health, limits, i * 0.25) is None
