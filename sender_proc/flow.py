"""Ack-based flow control, free of I/O so every rule is visible in one place.

Frames wait in ``pending`` (a ring: max_latency_ms of audio while the link
feeds the server, the newest buffer_ms while it is down or stalled), at most
``window.size`` emits are in flight unacked (sized from ack round trips,
see window.py), and every frame that leaves without an ack is counted under
one reason:

- ``dropped.stale``: older than max_latency_ms when its turn came, or pushed
  out of a full queue
- ``dropped.disconnected``: pushed out of the replay ring while the link was
  down or stalled, still younger than max_latency_ms (buffer_ms is shorter)
- ``dropped.backlog``: the server handles frames slower than capture makes
  them, so a backlog would only grow; the oldest go so the newest reach it
- ``ack_timeout``: its ack did not come within ack_timeout_ms (credit returned)
- ``dropped.shutdown``: still held when the drain deadline of a stop ran out
  (not a fate: capture still holds the frame and pushes it to another sender)
- ``rejected``: the server acked it with ``{"ok": false}``

With ``acks`` off a frame handed to the link counts as ``written`` instead.
Frames unacked when the link drops go back to the front of ``pending`` and
count as ``retransmitted`` when they are sent again (``lost_in_flight``
stays 0; the key remains for reports read by older tools). Every fate is
also appended to ``settled`` for the shell to report to capture.
An emit may carry a batch of frames; every counter counts frames, and a
silence run (uplink_frame/format.py) counts as the frames it stands for.
"""

from __future__ import annotations

from dataclasses import dataclass

from sender_proc.pending import Pending
from sender_proc.window import DelayWindow
from uplink_frame import Frame
from uplink_frame.counters import SENDER_FATES, SenderCounter
from uplink_frame.finish import Fate
from uplink_runtime.histogram import Histogram

COUNTERS = tuple(SenderCounter)
FATES = SENDER_FATES


def seqs(frames: list[Frame]) -> int:
    """Frames counted as the seqs they stand for (a silence run is several)."""
    return sum(frame.frames for frame in frames)


@dataclass(slots=True)
class InFlight:
    frames: list[Frame]
    sent_at: float


@dataclass(frozen=True)
class FlowLimits:
    window: int
    queue_frames: int
    buffer_frames: int
    max_latency_s: float
    ack_timeout_s: float
    target_s: float = 0.05
    batch_frames: int = 1
    acks: bool = True
    trim_backlog: bool = True  # off in complete delivery: every frame in budget goes


class FlowControl:
    def __init__(self, limits: FlowLimits):
        self.limits = limits
        self.max_latency_s = limits.max_latency_s
        self.ack_timeout_s = limits.ack_timeout_s
        self.window = DelayWindow(limits.window, limits.target_s)
        self.pending = Pending(limits.queue_frames, limits.buffer_frames)
        self.inflight: dict[int, InFlight] = {}  # ack id -> frames, oldest first
        self.counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)
        self.latency = Histogram()
        self.connected = False
        self.stalled_since: float | None = None
        self.flushing = False  # a stop: send partial batches too
        self.settled: list[tuple[Frame, Fate]] = []  # drained by the shell every report
        self._resend: set[tuple[str, int]] = set()  # requeued after a drop: a resend counts

    def count(self, reason: SenderCounter, n: int = 1) -> None:
        self.counters[reason] += n

    def settle(self, reason: SenderCounter, frames: list[Frame]) -> None:
        """Count frames that left for good and note their fate for capture."""
        self.counters[reason] += seqs(frames)
        fate = FATES[reason]
        self.settled.extend((frame, fate) for frame in frames)

    @property
    def feeding(self) -> bool:
        return self.connected and self.stalled_since is None

    def offer(self, frame: Frame) -> None:
        self.counters[SenderCounter.RECEIVED] += frame.frames
        self._pushed_out(self.pending.add(frame, self.feeding), frame.t_ready)
        self._trim_backlog()

    def _pushed_out(self, frames: list[Frame], newest: float) -> None:
        """Out of a full ring: ``stale`` if past the budget anyway, else lost to the outage."""
        for frame in frames:
            aged = newest - frame.t_ready >= self.max_latency_s - frame.duration_s / 2
            reason = SenderCounter.STALE if aged or self.feeding else SenderCounter.DISCONNECTED
            self.settle(reason, [frame])

    def _trim_backlog(self) -> None:
        """A server slower than capture never drains a backlog: keep only the newest frames."""
        service = self.window.service_s
        if not (self.limits.trim_backlog and self.feeding and service and self.pending):
            return
        # service_s is per ack, and an ack answers for a whole batch
        if service > self.pending.frames[-1].duration_s * self.limits.batch_frames:
            keep = max(1, int(self.limits.target_s / service))
            self.settle(SenderCounter.BACKLOG, self.pending.trim(keep))

    def can_send(self, now: float) -> bool:
        if not self.connected or not self.pending:
            return False
        if self.stalled_since is not None:
            return not self.inflight  # one probe at a time tells us when acks come back
        if len(self.inflight) >= self.window.size:
            return False
        return self.flushing or self._batch_ready(now)

    def _batch_ready(self, now: float) -> bool:
        """A full batch waits, or its oldest frame has waited a batch's length."""
        batch = self.limits.batch_frames
        if batch <= 1:
            return True
        oldest = self.pending.frames[0]
        if now - oldest.t_ready >= (batch - 1) * oldest.duration_s:
            return True
        return self.pending.waiting(oldest.stream) >= batch

    def next_batch(self, now: float) -> list[Frame]:
        """The oldest pending frames still young enough to be worth sending."""
        self._trim_backlog()
        batch, stale = self.pending.take(now, self.max_latency_s, self.limits.batch_frames)
        self.settle(SenderCounter.STALE, stale)
        if self._resend:
            again = [f for f in batch if (f.stream, f.seq) in self._resend]
            self._resend.difference_update((f.stream, f.seq) for f in again)
            self.count(SenderCounter.RETRANSMITTED, seqs(again))
        return batch

    def sent(self, ack_id: int, frames: list[Frame], now: float) -> None:
        self.counters[SenderCounter.SENT] += seqs(frames)
        if not self.limits.acks:
            self.settle(SenderCounter.WRITTEN, frames)
            return
        self.inflight[ack_id] = InFlight(frames, now)

    def acked(self, ack_id: int, now: float, ok: bool = True) -> bool:
        """An ack came; ``ok`` False means the server refused the frames."""
        entry = self.inflight.pop(ack_id, None)
        if entry is None:
            return False  # already timed out or lost with a dropped link
        self.stalled_since = None
        self.window.sample(now - entry.sent_at, now, bool(self.pending or self.inflight))
        if not ok:
            self.settle(SenderCounter.REJECTED, entry.frames)
            return True
        self.settle(SenderCounter.ACKED, entry.frames)
        for frame in entry.frames:
            self.latency.add((now - frame.t_ready) * 1000)
        return True

    def expire(self, now: float) -> list[int]:
        """Ack ids whose ack is overdue; their credit is returned and the link counts as stalled."""
        expired = []
        for ack_id, entry in self.inflight.items():
            if now - entry.sent_at < self.ack_timeout_s:
                break  # dict keeps send order: the rest are younger
            expired.append(ack_id)
        for ack_id in expired:
            self.settle(SenderCounter.ACK_TIMEOUT, self.inflight.pop(ack_id).frames)
        if expired and self.stalled_since is None:
            self.stalled_since = now
            self.count(SenderCounter.STALLS)
        return expired

    def link_up(self, now: float) -> None:
        self.connected = True
        self.stalled_since = None
        self.window.reset(now)

    def link_down(self) -> None:
        """Unacked frames may never have reached the server: they go first again."""
        self.connected = False
        self.stalled_since = None
        unacked = [frame for entry in self.inflight.values() for frame in entry.frames]
        self.inflight.clear()
        out = self.pending.requeue(unacked)
        if out:
            self._pushed_out(out, self.pending.frames[-1].t_ready)
        held = {(f.stream, f.seq) for f in self.pending.frames}
        self._resend = (self._resend | {(f.stream, f.seq) for f in unacked}) & held

    def abandon(self) -> list[Frame]:
        """A stop's drain deadline passed: what is still held, counted; capture pushes it again."""
        self.link_down()
        left = self.pending.clear()
        self.count(SenderCounter.SHUTDOWN, seqs(left))
        self._resend.clear()
        return left

    @property
    def idle(self) -> bool:
        return not self.pending and not self.inflight
