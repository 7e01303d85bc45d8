"""Restart decisions read a reason's cause, not its text; roles come from heartbeats, not names."""

from __future__ import annotations

import json
from typing import Any

import msgpack

from supervisor.intake import Intake, Refusal
from supervisor.ops.stats import Stats
from supervisor.reasons import Cause, Reason
from supervisor.watchdog import Health, Limits, verdict
from uplink_runtime.roles import Role


def test_a_reason_reads_as_its_text_and_decides_by_its_cause() -> None:
    memory = Reason.said(Cause.MEMORY, "RSS 300 MB over the 256 MB cap")
    assert memory == "memory: RSS 300 MB over the 256 MB cap"
    assert json.dumps({"reason": memory}) == '{"reason": "memory: RSS 300 MB over the 256 MB cap"}'
    assert memory.planned and memory.by_supervisor
    exit_ = Reason(Cause.EXIT, "exit code 2")
    assert not exit_.planned and not exit_.by_supervisor
    # a process that prints "memory..." as its exit text is still an exit, not a recycle
    assert not Reason(Cause.EXIT, "memory: its own words").planned


def test_the_watchdog_names_its_cause() -> None:
    health = Health(started_at=0.0)
    hung = verdict(health, Limits(startup_timeout_s=1.0), 2.0)
    assert hung is not None and hung.cause is Cause.HANG
    health.beat(Role.CAPTURE, {"counters": {"captured": 1}, "info": {"rss_mb": 999.0}}, 2.0)
    fat = verdict(health, Limits(max_rss_mb=256.0), 2.0)
    assert fat is not None and fat.cause is Cause.MEMORY and fat.startswith("memory: RSS 999")


def beat(name: str, role: str, pid: int, acked: int) -> list[bytes]:
    message: dict[str, Any] = {
        "name": name,
        "role": role,
        "pid": pid,
        "counters": {"acked": acked},
        "hist": {},
        "info": {"rss_mb": 1.0, "cpu_s": 0.0},
    }
    return [msgpack.packb(message, use_bin_type=True)]


def test_totals_go_by_the_heartbeats_role_not_the_name() -> None:
    stats = Stats()
    intake = Intake(stats)
    intake.expect("uplink-a", Role.SENDER, 10)  # a name that does not start with the role
    intake.expect("sender-x", Role.CAPTURE, 11)
    for parts in (beat("uplink-a", "sender", 10, 5), beat("sender-x", "capture", 11, 7)):
        msg = intake.heartbeat(parts)
        assert msg is not None
        stats.update(msg)
    assert stats.role_counters(Role.SENDER) == {"acked": 5}
    assert stats.role_counters(Role.CAPTURE) == {"acked": 7}
    stats.retire("uplink-a")
    assert stats.role_counters(Role.SENDER) == {"acked": 5}  # kept in the retired totals


def test_a_heartbeat_claiming_another_role_is_foreign() -> None:
    stats = Stats()
    intake = Intake(stats)
    intake.expect("sender-1", Role.SENDER, 10)
    assert intake.heartbeat(beat("sender-1", "capture", 10, 5)) is None
    assert stats.rejected[Refusal.HEARTBEAT_FOREIGN] == 1
    assert intake.heartbeat(beat("sender-1", "boss", 10, 5)) is None
    assert stats.rejected[Refusal.HEARTBEAT_MALFORMED] == 1
