"""Heartbeats in, totals out: counters summed across processes and restarts."""

from __future__ import annotations

from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass, field
from typing import Any

from uplink_runtime.histogram import Histogram
from uplink_runtime.roles import Role

_KEEP_SNAPSHOTS = 8  # a late final heartbeat of a replaced pid still lands on its own entry


@dataclass
class ProcessStats:
    """What one named slot reported, across every pid that filled it."""

    snapshots: OrderedDict[int, dict[str, Any]] = field(default_factory=OrderedDict)
    base_counters: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    base_hist: Histogram = field(default_factory=Histogram)
    base_cpu_s: float = 0.0
    max_rss_mb: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    role: Role | None = None  # from the heartbeats (supervisor/intake.py checks it)

    def update(self, msg: dict[str, Any]) -> None:
        pid = int(msg["pid"])
        self.role = msg["role"]
        self.snapshots[pid] = msg
        self.snapshots.move_to_end(pid)
        self.info = msg["info"]
        self.max_rss_mb = max(self.max_rss_mb, float(msg["info"].get("rss_mb", 0.0)))
        while len(self.snapshots) > _KEEP_SNAPSHOTS:
            _, old = self.snapshots.popitem(last=False)
            for key, n in old["counters"].items():
                self.base_counters[key] += n
            self.base_hist.merge(old["hist"])
            self.base_cpu_s += float(old["info"].get("cpu_s", 0.0))

    def counters(self) -> dict[str, int]:
        total = defaultdict(int, self.base_counters)
        for msg in self.snapshots.values():
            for key, n in msg["counters"].items():
                total[key] += n
        return dict(total)

    def histogram(self) -> Histogram:
        hist = Histogram(self.base_hist.counts)
        for msg in self.snapshots.values():
            hist.merge(msg["hist"])
        return hist

    def cpu_s(self) -> float:
        return self.base_cpu_s + sum(
            float(m["info"].get("cpu_s", 0.0)) for m in self.snapshots.values()
        )

    def seen(self, pid: int | None) -> bool:
        return pid is not None and pid in self.snapshots

    def absorb(self, other: ProcessStats) -> None:
        """Fold another slot's totals into this one's base (a retired process)."""
        for key, n in other.counters().items():
            self.base_counters[key] += n
        self.base_hist.merge(other.histogram().counts)
        self.base_cpu_s += other.cpu_s()
        self.max_rss_mb = max(self.max_rss_mb, other.max_rss_mb)


class Stats:
    def __init__(self) -> None:
        self.by_name: dict[str, ProcessStats] = defaultdict(ProcessStats)
        self.rejected: Counter[str] = Counter()  # by supervisor.intake.Refusal
        # each role's retired slots, folded in, so totals survive their removal
        self.retired: dict[Role, ProcessStats] = defaultdict(ProcessStats)
        self.retired_reconnects = 0  # reported in info, not counters: kept for the metric

    @property
    def bad_heartbeats(self) -> int:
        return self.rejected["heartbeat_malformed"]

    def update(self, msg: dict[str, Any]) -> None:
        self.by_name[str(msg["name"])].update(msg)

    def retire(self, name: str) -> None:
        """A slot that is gone for good: its counts move into its role's retired totals."""
        if name in self.by_name:
            gone = self.by_name.pop(name)
            if gone.role is not None:
                self.retired[gone.role].absorb(gone)
            self.retired_reconnects += sum(
                int(m["info"].get("reconnects", 0)) for m in gone.snapshots.values()
            )

    def _slots(self, role: Role) -> list[ProcessStats]:
        own = [s for s in self.by_name.values() if s.role is role]
        return own + ([self.retired[role]] if role in self.retired else [])

    def heard(self, role: Role) -> bool:
        """Whether a process of this role has sent a heartbeat (an embedded receiver, say)."""
        return bool(self._slots(role))

    def role_counters(self, role: Role) -> dict[str, int]:
        total: dict[str, int] = defaultdict(int)
        for stats in self._slots(role):
            for key, n in stats.counters().items():
                total[key] += n
        return dict(total)

    def latency(self) -> Histogram:
        hist = Histogram()
        for stats in self._slots(Role.SENDER):
            hist.merge(stats.histogram().counts)
        return hist
