"""What each child slot is doing, for `supervisor status`, status.json and the live view."""

from __future__ import annotations

from typing import Any

from supervisor.ops import levels
from supervisor.ops.stats import Stats
from supervisor.process import Child
from uplink_frame.counters import LOSSES, CaptureCounter, ReceiverCounter, SenderCounter
from uplink_runtime.levels import is_level_counter
from uplink_runtime.roles import Role

_IN_OUT = {
    Role.CAPTURE: (CaptureCounter.CAPTURED, CaptureCounter.SENT),
    Role.SENDER: (SenderCounter.RECEIVED, SenderCounter.ACKED),
    Role.RECEIVER: (ReceiverCounter.FRAMES, ReceiverCounter.FRAMES),
}


def state(child: Child) -> str:
    if child.removed:
        return "retiring" if child.alive else "removed"
    if child.alive:
        if child.kill_at is not None:
            return "stopping"
        return "running" if child.health.beat_at is not None else "starting"
    if child.restart_at is not None:
        return "backoff"
    return "stopped"


def row(child: Child, stats: Stats, now: float) -> dict[str, Any]:
    counters = stats.by_name[child.name].counters() if child.name in stats.by_name else {}
    key_in, key_out = _IN_OUT[child.role]
    drops = sum(n for k, n in counters.items() if k in LOSSES)
    return {
        "name": child.name,
        "role": child.role.value,
        "pid": child.pid,
        "state": state(child),
        "uptime_s": round(now - child.started_at, 1) if child.alive else None,
        "restarts": child.restarts,
        "rss_mb": round(child.health.rss_mb, 1) if child.alive else None,
        "frames_in": counters.get(key_in, 0),
        "frames_out": counters.get(key_out, 0),
        "drops": drops,
        "counters": {k: n for k, n in counters.items() if not is_level_counter(k)},
        "levels": _levels(child, stats),
        "last_error": child.pending_reason or _link_error(child, stats) or child.last_exit or None,
    }


def _levels(child: Child, stats: Stats) -> dict[str, Any] | None:
    """A running capture's last second: RMS, peak (dBFS) and its raised alarms."""
    if child.role is not Role.CAPTURE or not child.alive or child.name not in stats.by_name:
        return None
    return levels.current(stats.by_name[child.name].info)


def _link_error(child: Child, stats: Stats) -> str | None:
    """A sender's last failed connect (its server's refusal, unreachable, TLS)."""
    if child.role is not Role.SENDER or child.name not in stats.by_name:
        return None
    error = stats.by_name[child.name].info.get("link_error")
    return str(error["text"]) if isinstance(error, dict) and "text" in error else None
