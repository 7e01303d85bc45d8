"""Backoff between retries: 0.1 s doubling to a 10 s cap, +-20 % jitter so siblings do not
retry in lockstep, back to 0.1 s once the thing retried has run ``healthy_after_s`` healthy."""

from __future__ import annotations

import random
from dataclasses import dataclass


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
