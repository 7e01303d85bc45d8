"""Backoff between retries: 0.1 s doubling to a 10 s cap, +-20 % jitter so siblings do not
retry in lockstep, back to the start once the thing retried has run ``healthy_after_s`` healthy.

``first_s`` is the wait before the first retry of a series (default: ``initial_s``). The
supervisor restarts a child at once the first time (0), as Erlang/OTP does: a child that
was killed has already cost its audio the time it takes to start again, and only one
that keeps failing is worth slowing down.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass
class Backoff:
    initial_s: float = 0.1
    cap_s: float = 10.0
    healthy_after_s: float = 30.0
    first_s: float | None = None
    _next_s: float = 0.0

    def delay(self, ran_for_s: float) -> float:
        """Delay before retrying a thing that ran for ``ran_for_s`` seconds."""
        if ran_for_s >= self.healthy_after_s or self._next_s == 0.0:
            self._next_s = self.initial_s
            if self.first_s is not None:
                return self.first_s
        delay = self._next_s * random.uniform(0.8, 1.2)
        self._next_s = min(self._next_s * 2, self.cap_s)
        return min(delay, self.cap_s)
