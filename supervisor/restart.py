"""Restart intensity: when a child that keeps crashing is given up on.

The delay between restarts is uplink_runtime.backoff.Backoff.
Intensity (Erlang/OTP's intensity/period): more than ``max_restarts`` crash
restarts within ``window_s`` marks the child failed, and the supervisor gives
up rather than spin. Planned recycles (memory cap, ``supervisor restart``)
are not crashes and do not count.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


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
