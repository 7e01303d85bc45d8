"""How many emits may be in flight: sized from ack round trips, not fixed.

A fixed window of 8 behind a server that handles one frame per 100 ms keeps
8 frames queued in the server: every delivered frame waits ~800 ms. Like TCP
Vegas and LEDBAT, this window reads queueing from delay: a round trip above
the smallest one seen (``base``) by more than ``target_s`` means frames are
queueing at the server, so the window halves (at most once per round trip);
round trips near the base let it grow by about one per round trip, or by one
per ack while it is still in slow start. It never leaves ``1..max_window``.

It also measures the server's pace: the gap between acks while frames were
in line for it (the lower median of the last few, so one hiccup followed by
a burst of acks does not count as a slow server).
"""

from __future__ import annotations

from collections import deque

_BASE_PERIOD_S = 10.0  # the base is the minimum over the last 10-20 s
_SRTT_GAIN = 1 / 8  # as TCP's smoothed RTT
_GAPS = 7  # ack gaps whose median is the server's pace


class DelayWindow:
    def __init__(self, max_window: int, target_s: float) -> None:
        self.max_window = max_window
        self.target_s = target_s
        self.reset(0.0)

    def reset(self, now: float) -> None:
        """A new connection may reach another server: learn it from scratch."""
        self.cwnd = 1.0
        self.slow_start = True
        self.srtt: float | None = None
        self._mins = [float("inf"), float("inf")]  # current and previous period
        self._period_start = now
        self._last_cut = now
        self._gaps: deque[float] = deque(maxlen=_GAPS)
        self._service_s: float | None = None  # of _gaps, kept: every frame asks for it
        self._last_ack: float | None = None  # set while the server has frames in line

    @property
    def size(self) -> int:
        return max(1, min(self.max_window, int(self.cwnd)))

    @property
    def base(self) -> float:
        return min(self._mins)

    def sample(self, rtt: float, now: float, busy: bool) -> None:
        """An ack came ``rtt`` s after its emit; ``busy``: more frames were in line behind it."""
        if self._last_ack is not None:
            self._gaps.append(now - self._last_ack)
            self._service_s = sorted(self._gaps)[(len(self._gaps) - 1) // 2]  # median_low
        self._last_ack = now if busy else None
        if now - self._period_start >= _BASE_PERIOD_S:
            self._mins = [float("inf"), self._mins[0]]
            self._period_start = now
        self._mins[0] = min(self._mins[0], rtt)
        self.srtt = rtt if self.srtt is None else self.srtt + _SRTT_GAIN * (rtt - self.srtt)
        queueing = rtt - self.base
        if queueing > self.target_s:
            self._cut(now)
        elif self.slow_start:
            self.cwnd = min(self.max_window, self.cwnd + 1)
        else:
            off_target = (self.target_s - queueing) / self.target_s
            self.cwnd = min(self.max_window, self.cwnd + off_target / self.cwnd)

    def _cut(self, now: float) -> None:
        self.slow_start = False
        if now - self._last_cut < (self.srtt or 0.0):
            return  # these acks left before the last cut could take effect
        self.cwnd = max(1.0, self.cwnd / 2)
        self._last_cut = now

    @property
    def service_s(self) -> float | None:
        """Seconds the server takes per frame when it is busy (None until measured)."""
        return self._service_s
