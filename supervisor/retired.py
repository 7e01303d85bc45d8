"""Senders scaled away leave no residue; the report keeps bounded histories.

A retired sender stays in the process list while it drains. Once it has
exited and stayed gone for ``SETTLE_S`` (its final heartbeat, sent just
before exit, has landed by then), it leaves the live views, status.json and
the run directory; its counters fold into the senders' totals, so no sum
changes. The report lists the newest ``HISTORY`` of them under ``retired``
and counts older ones in ``retired_dropped``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from supervisor.ops.stats import ProcessStats
from supervisor.process import Child
from uplink_runtime.roles import Role

HISTORY = 50
SETTLE_S = 1.0
T = TypeVar("T")


class Kept(Generic[T]):
    """The newest ``limit`` records, and a count of the older ones let go."""

    def __init__(self, limit: int) -> None:
        self.items: deque[T] = deque(maxlen=limit)
        self.dropped = 0

    def append(self, item: T) -> None:
        if len(self.items) == self.items.maxlen:
            self.dropped += 1
        self.items.append(item)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)


class Retired:
    def __init__(self) -> None:
        self.history: Kept[dict[str, Any]] = Kept(HISTORY)
        self._gone_at: dict[str, float] = {}

    def due(self, child: Child, now: float) -> bool:
        """Whether a scaled-away sender has exited and settled, so it can be forgotten."""
        if child.role is not Role.SENDER or not child.removed or child.alive or child.retiring:
            self._gone_at.pop(child.name, None)
            return False
        return now - self._gone_at.setdefault(child.name, now) >= SETTLE_S

    def add(self, child: Child, stats: ProcessStats | None, at_s: float) -> None:
        """Keep what the report says about a forgotten slot (its counts are folded elsewhere)."""
        self._gone_at.pop(child.name, None)
        self.history.append(
            {
                "name": child.name,
                "last_pid": child.last_pid,
                "restarts": child.restarts,
                "exits": list(child.exits),
                "max_rss_mb": round(stats.max_rss_mb, 1) if stats else 0.0,
                "cpu_s": round(stats.cpu_s(), 3) if stats else 0.0,
                "retired_at_s": round(at_s, 3),
            }
        )

    def report(self) -> dict[str, Any]:
        return {"retired": list(self.history), "retired_dropped": self.history.dropped}
