"""Each stream's sound levels and alarms, as its capture reports them (capture_proc/levels.py).

Capture decides the alarms and logs them; the supervisor only shows them:
`supervisor status` (the newest second), the report (min, median and max
of the per-second levels, and how often each alarm was raised) and the
Prometheus gauges and counters.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from supervisor.ops.stats import ProcessStats, Stats
from supervisor.process import Child
from uplink_runtime.levels import LEVEL_KINDS, Alarm, alarm_counter, level_seconds
from uplink_runtime.roles import Role

if TYPE_CHECKING:
    from prometheus_client.core import Metric


def current(info: dict[str, Any]) -> dict[str, Any] | None:
    """The last whole second's levels and the raised alarms, if this capture measures them."""
    if "rms_db" not in info:
        return None
    return {"rms_db": info["rms_db"], "peak_db": info["peak_db"], "alarms": info.get("alarms", [])}


def _captures(stats: Stats, children: Iterable[Child]) -> Iterator[tuple[str, Child, ProcessStats]]:
    for child in children:
        if child.role is Role.CAPTURE and child.name in stats.by_name:
            ps = stats.by_name[child.name]
            yield str(ps.info.get("stream") or child.name), child, ps


def spread(seconds: dict[int, int]) -> dict[str, int | None]:
    """Min, median and max of a {dBFS: seconds} histogram (to its 2 dB steps)."""
    total = sum(seconds.values())
    if not total:
        return {"min": None, "median": None, "max": None}
    rank, seen, median = math.ceil(total / 2), 0, None
    for db in sorted(seconds):
        seen += seconds[db]
        if seen >= rank:
            median = db
            break
    return {"min": min(seconds), "median": median, "max": max(seconds)}


def report(stats: Stats, children: Iterable[Child]) -> dict[str, dict[str, Any]]:
    """Per stream: seconds measured, spread of RMS and peak, alarms raised."""
    out: dict[str, dict[str, Any]] = {}
    for stream, _, ps in _captures(stats, children):
        counters = ps.counters()
        rms = level_seconds(counters, "rms_db")
        out[stream] = {
            "seconds": sum(rms.values()),
            **{kind: spread(level_seconds(counters, kind)) for kind in LEVEL_KINDS},
            "alarms_raised": {a.value: counters.get(alarm_counter(a), 0) for a in Alarm},
        }
    return out


def summary_lines(levels: dict[str, dict[str, Any]]) -> list[str]:
    def cell(d: dict[str, int | None]) -> str:
        return " / ".join("-" if v is None else str(v) for v in d.values())

    return [
        f"  levels {stream} ({s['seconds']} s; min / median / max, dBFS to 2 dB): "
        f"RMS {cell(s['rms_db'])}, peak {cell(s['peak_db'])}; alarms raised: "
        + ", ".join(f"{k} {n}" for k, n in s["alarms_raised"].items())
        for stream, s in levels.items()
    ]


def metrics(stats: Stats, children: Iterable[Child]) -> Iterator[Metric]:
    # only with --metrics: the report imports this module, and every supervisor writes one
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    level = GaugeMetricFamily(
        "audio_uplink_level_dbfs",
        "The last whole second's level, dBFS (kind rms or peak; -120 is digital silence)",
        labels=["stream", "kind"],
    )
    up = GaugeMetricFamily(
        "audio_uplink_alarm",
        "1 while the alarm is raised (kind silent or clipping)",
        labels=["stream", "kind"],
    )
    raised = CounterMetricFamily(
        "audio_uplink_alarms_raised", "Times the alarm was raised", labels=["stream", "kind"]
    )
    for stream, child, ps in _captures(stats, children):
        counters = ps.counters()
        shown = current(ps.info) if child.alive else None
        for alarm in Alarm:
            raised.add_metric([stream, alarm], counters.get(alarm_counter(alarm), 0))
            if shown is not None:
                up.add_metric([stream, alarm], 1 if alarm in shown["alarms"] else 0)
        if shown is not None:
            for kind in LEVEL_KINDS:
                level.add_metric([stream, kind.removesuffix("_db")], shown[kind])
    yield from (level, up, raised)
