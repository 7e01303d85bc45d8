"""Restart policy, in one place.

Backoff: 0.1 s doubling to a 10 s cap, +-20 % jitter so siblings do not
restart in lockstep, back to 0.1 s once a child has run 30 s healthy.
Intensity (Erlang/OTP's intensity/period): more than ``max_restarts`` crash
restarts within ``window_s`` marks the child failed, and the supervisor gives
up rather than spin. Planned recycles (memory cap, ``supervisor restart``)
are not crashes and do not count.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field


@dataclass
class Backoff:
    initial_s: float = 0.1
    cap_s: float = 10.0
    healthy_after_s: float = 30.0
    _next_s: float = 0.0

    def delay(self, ran_for_s: float) -> float:
        """Delay before restarting a child that ran for ``ran_for_s`` seconds."""
        if ran_for_s >= self.healthy_after_s or self._next_s == 0.0:
            self._next_s = self.initial_s
        delay = self._next_s * random.uniform(0.8, 1.2)
        self._next_s = min(self._next_s * 2, self.cap_s)
        return min(delay, self.cap_s)


@dataclass
class Intensity:
    max_restarts: int = 10
    window_s: float = 60.0
    _times: deque[float] = field(default_factory=deque)

    def record(self, now: float) -> bool:
        """Count a crash restart at ``now``; True if the limit is now exceeded."""
        self._times.append(now)
        while self._times and self._times[0] <= now - self.window_s:
            self._times.popleft()
        exceeded = len(self._times) > self.max_restarts
        while len(self._times) > self.max_restarts + 1:
            self._times.popleft()  # bounded: only the newest max_restarts + 1 matter
        return exceeded

    @property
    def recent(self) -> int:
        return len(self._times)
