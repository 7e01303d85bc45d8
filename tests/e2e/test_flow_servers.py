"""The whole pipeline behind misbehaving servers: slow, frozen, killed, late, never acking.

The servers are real python-socketio servers (testkit/fake_server.py) that log
every frame they handle; each test checks that nothing crashed, that frames
after recovery arrive in order, that the report's counters explain every
captured frame, and that delivered frames were fresh.
"""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from testkit.fake_server import read_log
from tests.support import Procs, poll_for, start_supervisor
from uplink_runtime.net import free_port

WINDOW = 8
MAX_LATENCY_MS = 500
SLACK_S = 1.0  # a shared, loaded machine delays any process now and then
RSS_BOUND_MB = 150  # steady state is ~40 MB; the +5 MB figure is measured in bench/


class FakeServer:
    def __init__(self, procs: Procs, log: Path, *args: str) -> None:
        self.procs, self.log, self.args = procs, log, args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        cmd = [sys.executable, "-m", "testkit.fake_server", "--port", str(self.port)]
        self.proc = self.procs.start(
            [*cmd, "--log", str(self.log), *self.args], stdout=subprocess.PIPE
        )
        assert self.proc.stdout is not None
        assert "listening" in self.proc.stdout.readline()  # bounded by the test timeout

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        if sig == signal.SIGKILL:
            self.proc.wait(timeout=10)

    def handled(self) -> list[tuple[str, int, float, float]]:
        return read_log(self.log)


def run_supervisor(procs: Procs, tmp_path: Path, url: str, *args: str) -> subprocess.Popen[str]:
    with (tmp_path / "supervisor.err").open("w") as err:  # the child keeps its own copy
        run = start_supervisor(
            procs, tmp_path / "run", "--server", url, *args, report=tmp_path / "r.json", stderr=err
        )
        return run.proc


def finish(proc: subprocess.Popen[str], tmp_path: Path, code: int = 0) -> dict[str, Any]:
    proc.wait(timeout=90)
    err = (tmp_path / "supervisor.err").read_text()
    assert proc.returncode == code, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    report: dict[str, Any] = json.loads((tmp_path / "r.json").read_text())
    f = report["frames"]
    # every captured frame is acked, written or counted; at most a window was in flight at the end
    assert 0 <= f["unaccounted"] <= WINDOW, f
    assert report["processes"]["sender-1"]["max_rss_mb"] < RSS_BOUND_MB, report["processes"]
    return report


def in_order_after(
    rows: list[tuple[str, int, float, float]], t: float, handling_s: float = 0.0
) -> list[int]:
    """Seqs handled from ``t`` on: strictly rising, and each fresh enough."""
    after = [(seq, handled - ready) for _, seq, ready, handled in rows if handled >= t]
    assert after, f"no frame handled after {t}"
    seqs = [seq for seq, _ in after]
    assert all(a < b for a, b in itertools.pairwise(seqs)), seqs
    bound = MAX_LATENCY_MS / 1000 + WINDOW * handling_s + SLACK_S
    assert max(age for _, age in after) <= bound, sorted(age for _, age in after)[-5:]
    return seqs


@pytest.fixture
def server_log(tmp_path: Path) -> Path:
    return tmp_path / "handled.log"


def test_slow_server_gets_fresh_frames(procs: Procs, tmp_path: Path, server_log: Path) -> None:
    server = FakeServer(procs, server_log, "--handle-ms", "100")
    server.start()
    report = finish(run_supervisor(procs, tmp_path, server.url, "--duration", "6"), tmp_path)
    rows = server.handled()
    in_order_after(rows, 0, handling_s=0.1)
    latencies = sorted(handled - ready for _, _, ready, handled in rows)
    assert latencies[len(latencies) // 2] < 0.25  # fresh audio, not a queue (p99 is in bench/)
    assert report["frames"]["dropped"]["backlog"] > 0  # the server cannot keep up: counted
    assert len(rows) >= report["frames"]["acked"] >= 20


def test_frozen_server_stalls_reconnects_and_resumes(
    procs: Procs, tmp_path: Path, server_log: Path
) -> None:
    server = FakeServer(procs, server_log)
    server.start()
    args = ("--duration", "12", "--ack-timeout-ms", "500", "--stall-reconnect-ms", "1000")
    proc = run_supervisor(procs, tmp_path, server.url, *args)
    poll_for(lambda: len(server.handled()) > 50, timeout=30)
    server.signal(signal.SIGSTOP)
    time.sleep(3)
    server.signal(signal.SIGCONT)
    resumed = time.time()
    report = finish(proc, tmp_path)
    f = report["frames"]
    assert f["stalls"] >= 1 and f["dropped"]["disconnected"] + f["dropped"]["stale"] > 0, f
    seqs = in_order_after(server.handled(), resumed + 1.5)
    assert len(seqs) > 100  # the stream went on after the freeze


def test_killed_and_restarted_server(procs: Procs, tmp_path: Path, server_log: Path) -> None:
    server = FakeServer(procs, server_log)
    server.start()
    proc = run_supervisor(procs, tmp_path, server.url, "--duration", "10")
    poll_for(lambda: len(server.handled()) > 50, timeout=30)
    server.signal(signal.SIGKILL)
    time.sleep(3)
    server.start()
    restarted = time.time()
    report = finish(proc, tmp_path)
    seqs = in_order_after(server.handled(), restarted)
    assert len(seqs) > 100
    dropped = report["frames"]["dropped"]
    assert dropped["disconnected"] + dropped["stale"] > 0, report["frames"]


def test_server_up_after_the_supervisor(procs: Procs, tmp_path: Path, server_log: Path) -> None:
    server = FakeServer(procs, server_log)
    proc = run_supervisor(procs, tmp_path, server.url, "--duration", "8")
    time.sleep(3)
    server.start()
    up = time.time()
    report = finish(proc, tmp_path)
    seqs = in_order_after(server.handled(), up)
    # the first connection is retried; the supervisor starts capture once the sender is
    # connected (within 10 s), so the stream starts whole
    assert seqs[0] == 0 and report["frames"]["acked"] > 150
    assert sum(report["frames"]["dropped"].values()) <= WINDOW, report["frames"]


def test_server_that_never_acks_with_acks_off(
    procs: Procs, tmp_path: Path, server_log: Path
) -> None:
    server = FakeServer(procs, server_log, "--no-ack")
    server.start()
    args = ("--duration", "5", "--acks", "false")
    report = finish(run_supervisor(procs, tmp_path, server.url, *args), tmp_path)
    f = report["frames"]
    assert f["acked"] == 0 and f["written"] >= f["captured"] - WINDOW, f
    seqs = in_order_after(server.handled(), 0)
    assert len(seqs) >= f["written"] - WINDOW


def test_server_that_never_acks_with_acks_on(
    procs: Procs, tmp_path: Path, server_log: Path
) -> None:
    server = FakeServer(procs, server_log, "--no-ack")
    server.start()
    args = ("--duration", "6", "--ack-timeout-ms", "500", "--stall-reconnect-ms", "1000")
    # nothing acked is a run that delivered nothing: exit 3, saying the server never acked
    report = finish(run_supervisor(procs, tmp_path, server.url, *args), tmp_path, code=3)
    err = (tmp_path / "supervisor.err").read_text()
    assert "the server accepted the connection but acked no frame" in err, err[-3000:]
    f = report["frames"]
    assert f["acked"] == 0 and f["stalls"] >= 2 and f["dropped"]["ack_timeout"] > 0, f
    assert server.handled()  # what it got, it got in order
    in_order_after(server.handled(), 0)
