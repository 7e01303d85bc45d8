"""Ack-based flow control, free of I/O so every rule is visible in one place.

Frames wait in ``pending`` (bounded in frames = max_latency_ms of audio),
at most ``window`` are in flight unacked, and every frame that leaves
without an ack is counted under one reason:

- ``dropped.stale``: older than max_latency_ms, or pushed out of a full queue
- ``dropped.disconnected``: pushed out of a full queue while the link was down
- ``ack_timeout``: its ack did not come within ack_timeout_ms (credit returned)
- ``lost_in_flight``: unacked when the link dropped (its callback never fires)
- ``dropped.shutdown``: still held when the drain deadline of a stop ran out
- ``rejected``: the server acked it with ``{"ok": false}``
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from supervisor.histogram import Histogram
from uplink_frame import Frame

COUNTERS = (
    "received",
    "sent",
    "acked",
    "bad_frame",
    "rejected",
    "dropped.stale",
    "dropped.disconnected",
    "ack_timeout",
    "lost_in_flight",
    "dropped.shutdown",
)


@dataclass(slots=True)
class InFlight:
    frame: Frame
    sent_at: float


class FlowControl:
    def __init__(self, window: int, queue_frames: int, max_latency_s: float, ack_timeout_s: float):
        self.window = window
        self.max_latency_s = max_latency_s
        self.ack_timeout_s = ack_timeout_s
        self.pending: deque[Frame] = deque()
        self.queue_frames = queue_frames
        self.inflight: dict[int, InFlight] = {}  # ack id -> frame, oldest first
        self.counters = dict.fromkeys(COUNTERS, 0)
        self.latency = Histogram()
        self.connected = False

    def count(self, reason: str, n: int = 1) -> None:
        self.counters[reason] += n

    def offer(self, frame: Frame) -> None:
        self.counters["received"] += 1
        if len(self.pending) >= self.queue_frames:
            self.pending.popleft()
            self.count("dropped.stale" if self.connected else "dropped.disconnected")
        self.pending.append(frame)

    def can_send(self) -> bool:
        return self.connected and len(self.inflight) < self.window and bool(self.pending)

    def next_frame(self, now: float) -> Frame | None:
        """The oldest pending frame still young enough to be worth sending."""
        while self.pending:
            frame = self.pending.popleft()
            if now - frame.t_ready <= self.max_latency_s:
                return frame
            self.count("dropped.stale")
        return None

    def sent(self, ack_id: int, frame: Frame, now: float) -> None:
        self.inflight[ack_id] = InFlight(frame, now)
        self.counters["sent"] += 1

    def acked(self, ack_id: int, now: float, ok: bool = True) -> bool:
        """An ack came; ``ok`` False means the server refused the frame."""
        entry = self.inflight.pop(ack_id, None)
        if entry is None:
            return False  # already timed out or lost with a dropped link
        if not ok:
            self.count("rejected")
            return True
        self.counters["acked"] += 1
        self.latency.add((now - entry.frame.t_ready) * 1000)
        return True

    def expire(self, now: float) -> list[int]:
        """Ack ids whose ack is overdue; their credit is returned."""
        expired = []
        for ack_id, entry in self.inflight.items():
            if now - entry.sent_at < self.ack_timeout_s:
                break  # dict keeps send order: the rest are younger
            expired.append(ack_id)
        for ack_id in expired:
            del self.inflight[ack_id]
        self.count("ack_timeout", len(expired))
        return expired

    def link_down(self) -> None:
        self.connected = False
        self.count("lost_in_flight", len(self.inflight))
        self.inflight.clear()

    def abandon(self) -> None:
        """A stop's drain deadline passed: account for everything still held."""
        self.count("dropped.shutdown", len(self.pending))
        self.pending.clear()
        self.count("lost_in_flight", len(self.inflight))
        self.inflight.clear()

    @property
    def idle(self) -> bool:
        return not self.pending and not self.inflight
