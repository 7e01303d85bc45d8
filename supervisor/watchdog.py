"""Is a child alive *and* working? Heartbeat silence, stalled progress, memory.

A process can be running and still useless: stopped, deadlocked, blocked in
a device read, or leaking. Each heartbeat updates the child's Health; the
supervisor asks ``verdict`` every tick and recycles the child it names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from supervisor.reasons import Cause, Reason
from uplink_frame.counters import SENDER_PROGRESS, CaptureCounter, ReceiverCounter, SenderCounter
from uplink_runtime.roles import Role

# The counter whose first increment means a (re)started child does its job.
_WORK = {
    Role.CAPTURE: CaptureCounter.CAPTURED,
    Role.SENDER: SenderCounter.ACKED,
    Role.RECEIVER: ReceiverCounter.FRAMES,
}


@dataclass(frozen=True)
class Limits:
    hang_timeout_s: float = 2.0
    startup_timeout_s: float = 10.0
    max_rss_mb: float = 256.0


@dataclass
class Health:
    started_at: float = 0.0
    beat_at: float | None = None
    progress: int = -1
    progress_at: float = 0.0
    busy: bool = False
    rss_mb: float = 0.0
    first_work_at: float | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def beat(self, role: Role, msg: dict[str, Any], now: float) -> None:
        self.beat_at = now
        self.info = msg["info"]
        self.rss_mb = float(msg["info"].get("rss_mb", 0.0))
        progress, busy = _progress(role, msg)
        # the clock starts when there is work: a sender that waited 6 s for its
        # server and has just been handed its first frame is not 6 s behind
        if progress != self.progress or (busy and not self.busy):
            self.progress, self.progress_at = progress, now
        self.busy = busy
        if self.first_work_at is None and msg["counters"].get(_WORK[role], 0) > 0:
            self.first_work_at = now


def _progress(role: Role, msg: dict[str, Any]) -> tuple[int, bool]:
    """(a number that grows while the child works, whether it has work to do)."""
    counters, info = msg["counters"], msg["info"]
    if role is Role.CAPTURE:
        # suppress_silence publishes a pause once a second, but counts each frame it
        # suppresses as it goes: the sum moves with every frame (docs/silence.md)
        captured = int(counters.get(CaptureCounter.CAPTURED, 0))
        work = captured + int(counters.get(CaptureCounter.SUPPRESSED, 0))
        return work, not info.get("waiting", False)
    if role is Role.SENDER:
        held = int(info.get("pending", 0)) + int(info.get("inflight", 0))
        # without a link it waits for its server, not stuck: complete delivery
        # holds buffer_ms of frames then, with nothing to count meanwhile
        busy = held > 0 and bool(info.get("connected", True))
        return sum(int(counters.get(k, 0)) for k in SENDER_PROGRESS), busy
    return int(counters.get(ReceiverCounter.FRAMES, 0)), False


def verdict(health: Health, limits: Limits, now: float) -> Reason | None:
    """Why this child must be replaced now, or None if it is fine."""
    if health.beat_at is None:
        if now - health.started_at > limits.startup_timeout_s:
            after = f"no heartbeat {limits.startup_timeout_s:.0f} s after start"
            return Reason.said(Cause.HANG, after)
        return None
    silent = now - health.beat_at
    if silent > limits.hang_timeout_s:
        return Reason.said(Cause.HANG, f"no heartbeat for {silent * 1000:.0f} ms")
    stalled = now - max(health.progress_at, health.started_at)
    if health.busy and stalled > limits.hang_timeout_s:
        return Reason.said(Cause.HANG, f"no progress for {stalled * 1000:.0f} ms")
    if health.rss_mb > limits.max_rss_mb:
        cap = f"RSS {health.rss_mb:.0f} MB over the {limits.max_rss_mb:.0f} MB cap"
        return Reason.said(Cause.MEMORY, cap)
    return None
