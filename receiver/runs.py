"""The seqs a segment holds, as sorted runs: constant size for a stream that arrives in order.

Frames of one stream arrive over several senders and again after a
redelivery, so the set has holes for a while; each hole is one more run.
The number of runs is bounded: past it, the oldest hole is given up (its
seqs count as held), so a hostile pattern of every other seq cannot grow it.
"""

from __future__ import annotations

import bisect

MAX_RUNS = 4096


class Runs:
    def __init__(self, start: int | None = None, end: int | None = None) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []  # exclusive
        self.count = 0
        if start is not None and end is not None and end > start:
            self._starts, self._ends, self.count = [start], [end], end - start

    @property
    def end(self) -> int | None:
        return self._ends[-1] if self._ends else None

    def __contains__(self, seq: int) -> bool:
        i = bisect.bisect_right(self._starts, seq) - 1
        return i >= 0 and seq < self._ends[i]

    def add(self, seq: int) -> None:
        """Record ``seq`` (not already held)."""
        i = bisect.bisect_right(self._starts, seq) - 1
        self.count += 1
        joins_left = i >= 0 and self._ends[i] == seq
        joins_right = i + 1 < len(self._starts) and self._starts[i + 1] == seq + 1
        if joins_left and joins_right:
            self._ends[i] = self._ends.pop(i + 1)
            del self._starts[i + 1]
        elif joins_left:
            self._ends[i] = seq + 1
        elif joins_right:
            self._starts[i + 1] = seq
        else:
            self._starts.insert(i + 1, seq)
            self._ends.insert(i + 1, seq + 1)
            if len(self._starts) > MAX_RUNS:
                self._give_up_oldest_hole()

    def _give_up_oldest_hole(self) -> None:
        self.count += self._starts[1] - self._ends[0]
        self._ends[0] = self._ends.pop(1)
        del self._starts[1]
