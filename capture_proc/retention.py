"""Capture's memory of its newest frames until a sender says they are finished; no I/O.

Every frame captured enters a ring bounded in frames (the delivery budget
plus a margin) and moves through these states:

- ``QUEUED``: to be pushed (new, refused by a full high-water mark, or given
  back), oldest first
- ``PUSHED``: handed to ZeroMQ; which sender's pipe holds it is unknown
- ``TAKEN``: a sender reported pulling it; it is that sender's to deliver
- finished: a sender reported its fate (acked, rejected, dropped on purpose);
  its audio is let go, its fate kept to count each frame once

A sender that leaves or goes silent longer than the lease gives back every
frame it took and did not finish, and every frame pushed before then that no
sender reported taking (it may sit in the gone sender's pipe). A frame pushed
again counts as ``retransmitted``; the receiver drops the copy that arrives
twice. Counters, each frame at most once:

- ``stale``: still queued here when older than the budget
- ``evicted``: pushed out of a full ring before any fate was known
- ``fin.<fate>``: the fate a sender reported first (``acked`` wins over a
  drop reported by another sender, as the frame did reach the server)

A silence run (``suppress_silence``) is one entry under its first seq and
counts as the frames it stands for, so every seq has one fate.
"""

from __future__ import annotations

import bisect
import enum
import math
from collections import OrderedDict
from dataclasses import dataclass

from uplink_frame.counters import FINISHED, CaptureCounter
from uplink_frame.finish import Fate


class State(enum.Enum):
    QUEUED = enum.auto()
    PUSHED = enum.auto()
    TAKEN = enum.auto()
    FINISHED = enum.auto()


@dataclass(slots=True)
class Held:
    raw: bytes
    t_ready: float
    state: State = State.QUEUED
    owner: bytes | None = None
    fate: Fate | None = None
    pushes: int = 0
    pushed_at: float = 0.0  # monotonic
    frames: int = 1  # seqs it stands for: a silence run is several


class Retention:
    def __init__(self, capacity: int, budget_s: float) -> None:
        self.capacity = max(1, capacity)
        self.budget_s = budget_s
        self.ring: OrderedDict[int, Held] = OrderedDict()  # seq order: capture makes them so
        self.queue: list[int] = []  # seqs to push, sorted: the oldest goes first
        counted = (CaptureCounter.RETRANSMITTED, CaptureCounter.STALE, CaptureCounter.EVICTED)
        self.counters: dict[str, int] = dict.fromkeys((*counted, *FINISHED.values()), 0)

    def add(self, seq: int, raw: bytes, t_ready: float, frames: int = 1) -> None:
        self.ring[seq] = Held(raw, t_ready, frames=frames)
        self.queue.append(seq)  # newest: the queue stays sorted
        while len(self.ring) > self.capacity:
            old_seq, old = self.ring.popitem(last=False)
            if old.state is not State.FINISHED:
                self.counters[CaptureCounter.EVICTED] += old.frames
            self._unqueue(old_seq)

    def next_push(self, now: float) -> tuple[int, bytes] | None:
        """The oldest queued frame still inside the budget; older ones are counted stale."""
        while self.queue:
            held = self.ring[self.queue[0]]
            if now - held.t_ready <= self.budget_s:
                return self.queue[0], held.raw
            self.counters[CaptureCounter.STALE] += held.frames
            self._finish(self.queue.pop(0), None)
        return None

    def pushed(self, seq: int, mono: float) -> int:
        """``seq`` (the one next_push returned) went out at monotonic time ``mono``;
        returns the frames it stands for."""
        self.queue.pop(0)
        held = self.ring[seq]
        held.state, held.owner, held.pushed_at = State.PUSHED, None, mono
        held.pushes += 1
        if held.pushes > 1:
            self.counters[CaptureCounter.RETRANSMITTED] += held.frames
        return held.frames

    def took(self, owner: bytes, lo: int, hi: int) -> None:
        for _, held in self._span(lo, hi):
            if held.state is State.PUSHED:
                held.state, held.owner = State.TAKEN, owner

    def finished(self, fate: Fate, lo: int, hi: int) -> None:
        for seq, held in self._span(lo, hi):
            if held.state is not State.FINISHED:
                if held.state is State.QUEUED:
                    self._unqueue(seq)
                self._finish(seq, fate)
            elif fate is Fate.ACKED and held.fate not in (Fate.ACKED, None):
                self._recount(held, fate)  # the copy a gone sender dropped reached the server

    def gone(self, owner: bytes, older_than: float = math.inf) -> int:
        """Give back what ``owner`` did not finish and what no sender took (pushed before
        monotonic time ``older_than``); how many."""
        back = [
            seq
            for seq, held in self.ring.items()
            if (held.state is State.PUSHED and held.pushed_at <= older_than)
            or (held.state is State.TAKEN and held.owner == owner)
        ]
        for seq in back:
            self.ring[seq].state, self.ring[seq].owner = State.QUEUED, None
        self.queue = sorted({*self.queue, *back})
        return len(back)

    @property
    def full(self) -> bool:
        """The next frame would evict one whose fate is unknown."""
        if len(self.ring) < self.capacity:
            return False
        return next(iter(self.ring.values())).state is not State.FINISHED

    @property
    def unfinished(self) -> int:
        return sum(held.frames for held in self.ring.values() if held.state is not State.FINISHED)

    def _span(self, lo: int, hi: int) -> list[tuple[int, Held]]:
        """Held frames with lo <= seq <= hi: bounded by the ring, whatever a sender claims."""
        if not self.ring:
            return []
        lo, hi = max(lo, next(iter(self.ring))), min(hi, next(reversed(self.ring)))
        if hi - lo >= len(self.ring):  # seqs skipped by a device gap: walk the ring instead
            return [(s, held) for s, held in self.ring.items() if lo <= s <= hi]
        return [(s, self.ring[s]) for s in range(lo, hi + 1) if s in self.ring]

    def _finish(self, seq: int, fate: Fate | None) -> None:
        held = self.ring[seq]
        held.state, held.owner, held.fate, held.raw = State.FINISHED, None, fate, b""
        if fate is not None:
            self.counters[FINISHED[fate]] += held.frames

    def _recount(self, held: Held, fate: Fate) -> None:
        assert held.fate is not None
        self.counters[FINISHED[held.fate]] -= held.frames
        self.counters[FINISHED[fate]] += held.frames
        held.fate = fate

    def _unqueue(self, seq: int) -> None:
        i = bisect.bisect_left(self.queue, seq)
        if i < len(self.queue) and self.queue[i] == seq:
            self.queue.pop(i)
