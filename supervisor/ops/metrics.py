"""Prometheus metrics from the supervisor (``--metrics HOST:PORT``, off by default).

prometheus_client serves on its own thread; that thread must never walk the
supervisor's live dicts. The main loop builds a complete snapshot of metric
families about once a second and swaps it in with one assignment; a scrape
only reads the snapshot it finds.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from supervisor.config.ops import split_host_port
from supervisor.ops import levels, report
from supervisor.ops.stats import Stats
from supervisor.process import Child
from uplink_frame.counters import CONNECT_FAILED, REJECTED, ReceiverCounter
from uplink_runtime.errors import ConfigError
from uplink_runtime.histogram import Histogram, bucket_ms
from uplink_runtime.roles import Role

logger = logging.getLogger(__name__)
_REFRESH_S = 1.0
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class _Snapshot:
    """A prometheus_client collector that returns the last families it was given."""

    def __init__(self) -> None:
        self.families: tuple[Metric, ...] = ()

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


class Metrics:
    def __init__(self, address: str) -> None:
        host, port = split_host_port(address)
        self.registry = CollectorRegistry(auto_describe=False)
        self.snapshot = _Snapshot()
        self.registry.register(self.snapshot)
        try:
            self.server, self.thread = start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:
            raise ConfigError(
                f"metrics = {address!r}: cannot listen there ({exc.strerror})"
            ) from None
        self.refreshed_at = 0.0
        logger.info("supervisor %d: metrics on http://%s/metrics", os.getpid(), address)

    def refresh(self, stats: Stats, children: Iterable[Child], uptime_s: float) -> None:
        now = time.monotonic()
        if now - self.refreshed_at < _REFRESH_S:
            return
        self.refreshed_at = now
        self.snapshot.families = tuple(families(stats, list(children), uptime_s))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def families(stats: Stats, children: list[Child], uptime_s: float) -> Iterator[Metric]:
    """Every metric, computed from the same numbers as the end-of-run report."""
    totals = report.build(stats, children, uptime_s)
    labels = ["process", "role"]
    up = GaugeMetricFamily("audio_uplink_up", "1 if the process is running", labels=labels)
    restarts = CounterMetricFamily(
        "audio_uplink_restarts", "Replacements of the process", labels=labels
    )
    rss = GaugeMetricFamily("audio_uplink_rss_bytes", "Resident memory", labels=labels)
    for child in children:
        ident = [child.name, child.role.value]
        up.add_metric(ident, 1 if child.alive else 0)
        restarts.add_metric(ident, child.restarts)
        rss.add_metric(ident, child.health.rss_mb * (1 << 20) if child.alive else 0)
    yield from (up, restarts, rss)
    yield _labelled("audio_uplink_frames", "Frames by pipeline stage", "stage", _stages(totals))
    yield _labelled(
        "audio_uplink_dropped_frames",
        "Frames dropped, by reason",
        "reason",
        totals["frames"]["dropped"],
    )
    yield _labelled(
        "audio_uplink_rejected",
        "Messages the embedded receiver refused, by reason",
        "reason",
        {
            k.removeprefix(REJECTED): v
            for k, v in totals.get("receiver", {}).items()
            if k.startswith(REJECTED)
        },
    )
    yield from _link_failures(stats)
    yield _counter("audio_uplink_reconnects", "Socket.IO (re)connections", _reconnects(stats))
    yield _counter("audio_uplink_bad_heartbeats", "Malformed heartbeats", stats.bad_heartbeats)
    yield _counter(
        "audio_uplink_bad_frames", "Malformed frames senders got", totals["frames"]["bad"]
    )
    yield _latency(stats.latency())
    yield from levels.metrics(stats, children)


def _link_failures(stats: Stats) -> Iterator[Metric]:
    """Failed connects by kind; each sender's current error with its text (a refusal's reason)."""
    yield _labelled(
        "audio_uplink_connect_failures",
        "Failed Socket.IO connects, by kind (refused: the server said no)",
        "kind",
        {
            k.removeprefix(CONNECT_FAILED): v
            for k, v in stats.role_counters(Role.SENDER).items()
            if k.startswith(CONNECT_FAILED)
        },
    )
    errors = GaugeMetricFamily(
        "audio_uplink_link_error",
        "1 while the sender's last connect failed; the label says why",
        labels=["process", "kind", "error"],
    )
    for name, ps in stats.by_name.items():
        error = ps.info.get("link_error") if ps.role is Role.SENDER else None
        if isinstance(error, dict):
            errors.add_metric([name, str(error.get("kind")), str(error.get("text"))], 1)
    yield errors


def _stages(totals: dict[str, Any]) -> dict[str, int]:
    frames = totals["frames"]
    stages = {"captured": frames["captured"], "sent": frames["sent"], "acked": frames["acked"]}
    stages["suppressed"] = frames["suppressed"]  # sent as silence runs (docs/silence.md)
    if "receiver" in totals:
        stages["received"] = totals["receiver"].get(ReceiverCounter.FRAMES, 0)
    return stages


def _labelled(name: str, doc: str, label: str, values: dict[str, int]) -> Metric:
    family = CounterMetricFamily(name, doc, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


def _counter(name: str, doc: str, value: float) -> Metric:
    return CounterMetricFamily(name, doc, value=value)


def _reconnects(stats: Stats) -> int:
    """Each sender pid reports its own count; the supervisor keeps its last few pids."""
    return stats.retired_reconnects + sum(
        int(msg["info"].get("reconnects", 0))
        for ps in stats.by_name.values()
        if ps.role is Role.SENDER
        for msg in ps.snapshots.values()
    )


def _latency(hist: Histogram) -> Metric:
    """Capture->ack latency; each fine bucket counts under the first edge above it."""
    cumulative = [0] * (len(LATENCY_BUCKETS_S) + 1)
    total_s = 0.0
    for index, n in hist.counts.items():
        upper_s = bucket_ms(index) / 1000
        slot = next((i for i, le in enumerate(LATENCY_BUCKETS_S) if upper_s <= le), -1)
        cumulative[slot] += n
        total_s += upper_s * n
    buckets, running = [], 0
    for le, n in zip([*map(str, LATENCY_BUCKETS_S), "+Inf"], cumulative, strict=True):
        running += n
        buckets.append((le, running))
    return HistogramMetricFamily(
        "audio_uplink_latency_seconds",
        "Capture (last sample) to ack, all senders (sum uses bucket upper edges)",
        buckets=buckets,
        sum_value=total_s,
    )
