"""``--metrics``: scrape a running supervisor and parse with prometheus_client's own parser."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

from tests.metrics import Samples, scrape, value
from tests.support import (
    Procs,
    one_line_error,
    poll_for,
    run_supervisor,
    start_supervisor,
    wait_child_pid,
)
from uplink_runtime.net import free_port


def test_metrics_scrape_and_parse(procs: Procs, run_dir: Path) -> None:
    port = free_port()
    run = start_supervisor(
        procs, run_dir, "--duration", "30", "--metrics", str(port), stdout=subprocess.PIPE
    )

    def acked(minimum: float) -> Samples | None:
        """A scrape in which the sender's acks and the receiver's frames both reached
        ``minimum``: each arrives in its own process's heartbeat, so one may lag."""
        samples = scrape(port)
        stages = ("acked", "received")
        counts = [value(samples, "audio_uplink_frames_total", stage=stage) for stage in stages]
        return samples if all(n is not None and n >= minimum for n in counts) else None

    samples = poll_for(lambda: acked(20), timeout=30, interval=0.2)
    for name, role in (("capture", "capture"), ("sender-1", "sender"), ("receiver", "receiver")):
        assert value(samples, "audio_uplink_up", process=name, role=role) == 1
        assert (value(samples, "audio_uplink_rss_bytes", process=name, role=role) or 0) > 1e6
    assert (value(samples, "audio_uplink_frames_total", stage="captured") or 0) >= 20
    assert (value(samples, "audio_uplink_frames_total", stage="received") or 0) >= 20
    assert value(samples, "audio_uplink_dropped_frames_total", reason="hwm") == 0
    assert value(samples, "audio_uplink_rejected_total", reason="malformed") == 0
    count = value(samples, "audio_uplink_latency_seconds_count")
    assert count is not None and count >= 20
    assert value(samples, "audio_uplink_latency_seconds_bucket", le="+Inf") == count
    assert value(samples, "audio_uplink_reconnects_total") == 1
    assert value(samples, "audio_uplink_bad_frames_total") == 0
    assert value(samples, "audio_uplink_bad_heartbeats_total") == 0
    # the tone: a -6 dBFS sine (README, Sources), so its RMS is -9 dBFS; no alarm
    levels = poll_for(
        lambda: (
            (s := scrape(port))
            and value(s, "audio_uplink_level_dbfs", stream="main", kind="rms")
            and s
        ),
        timeout=30,
        interval=0.2,
    )
    assert value(levels, "audio_uplink_level_dbfs", stream="main", kind="rms") == -9.0
    assert value(levels, "audio_uplink_level_dbfs", stream="main", kind="peak") == -6.0
    for kind in ("silent", "clipping"):
        assert value(levels, "audio_uplink_alarm", stream="main", kind=kind) == 0
        assert value(levels, "audio_uplink_alarms_raised_total", stream="main", kind=kind) == 0

    pid = wait_child_pid(run_dir, "sender-1")
    os.kill(pid, signal.SIGKILL)

    def restarted() -> Samples | None:
        s = scrape(port)
        ok = value(s, "audio_uplink_restarts_total", process="sender-1", role="sender") == 1
        return s if ok and (value(s, "audio_uplink_reconnects_total") or 0) >= 2 else None

    samples = poll_for(restarted, timeout=30, interval=0.2)
    assert value(samples, "audio_uplink_up", process="sender-1", role="sender") == 1
    assert run.stop(timeout=60).code == 0


def test_metrics_port_in_use_is_one_line_exit_2(run_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_supervisor(
            "start", "--run-dir", str(run_dir), "--metrics", f"127.0.0.1:{port}"
        )
    line = one_line_error(result)
    assert f"metrics = '127.0.0.1:{port}': cannot listen there" in line
