"""Count every occurrence of a kind of bad input; log only a few of them.

A flood of one error must never become a flood of log lines: each kind is
logged on its 1st occurrence, then at most once per ``every`` occurrences
and once per ``interval_s`` seconds, each line carrying the running count.
Shared by the receiver and the senders; no I/O beyond the logger.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

LOG_EVERY = 100
LOG_INTERVAL_S = 1.0  # with a few kinds at ~150 B a line: well under 10 KB/s of log


class RateGate:
    """Which occurrences of each kind may be logged; kinds are bounded, then ``other``."""

    def __init__(
        self,
        every: int = LOG_EVERY,
        interval_s: float = LOG_INTERVAL_S,
        max_kinds: int = 64,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.every, self.interval_s, self.max_kinds, self.clock = (
            every,
            interval_s,
            max_kinds,
            clock,
        )
        self.seen: Counter[str] = Counter()
        self._last: dict[str, tuple[int, float]] = {}  # kind -> (count, time) when last logged

    def due(self, kind: str) -> tuple[bool, int]:
        """Count one ``kind``: whether to log it now, and its count so far."""
        if kind not in self.seen and len(self.seen) >= self.max_kinds:
            kind = "other"
        self.seen[kind] += 1
        n, now = self.seen[kind], self.clock()
        last_n, last_t = self._last.get(kind, (-self.every, -self.interval_s))
        if n - last_n < self.every or now - last_t < self.interval_s:
            return False, n
        self._last[kind] = (n, now)
        return True, n


class RateLog:
    def __init__(self, logger: logging.Logger, gate: RateGate | None = None) -> None:
        self.logger = logger
        self.gate = gate or RateGate()

    def hit(self, kind: str, msg: str, *args: object) -> int:
        """Count one ``kind``; log ``msg % args`` (with the count) when it is due."""
        due, n = self.gate.due(kind)
        if due:
            self.logger.warning("%s (#%d)", msg % args, n)
        return n
