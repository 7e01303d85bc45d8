"""Fault injection with real signals: whatever happens to one process, the audio keeps flowing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.evidence import assert_report_matches_server
from tests.support import (
    Ended,
    Procs,
    Run,
    control,
    live_status,
    poll_for,
    start_supervisor,
    wait_child_pid,
)

WINDOW, HWM_FRAMES, HEARTBEAT_FRAMES, FRAME_MS = 8, 50, 13, 20


Start = Callable[..., Run]


@pytest.fixture
def start(procs: Procs, run_dir: Path) -> Start:
    def start(*flags: str, env: dict[str, str] | None = None) -> Run:
        return start_supervisor(procs, run_dir, *flags, env=env, stdout=subprocess.PIPE)

    return start


def finish(run: Run, timeout: float = 60) -> Ended:
    ended = run.wait(timeout)
    assert "Traceback" not in ended.err, ended.err
    return ended


def records(report: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [r for r in report["restarts"] if r["process"] == name]


def assert_accounted(report: dict[str, Any], rec: Path, slack: int, uncaptured: int = 0) -> None:
    """The report against the receiver's WAV and stats.json; a killed child holds a few frames."""
    assert_report_matches_server(report, rec, HEARTBEAT_FRAMES, uncaptured)
    f = report["frames"]
    assert -HEARTBEAT_FRAMES <= f["unaccounted"] <= slack, f


def test_sigkill_capture_is_replaced_and_seq_continues(start: Start) -> None:
    run = start("--duration", "6")
    pid = wait_child_pid(run.run_dir, "capture")
    time.sleep(1.5)
    os.kill(pid, signal.SIGKILL)
    wait_child_pid(run.run_dir, "capture", not_pid=pid)
    ended = finish(run)
    report = ended.report
    [record] = records(report, "capture")
    assert record["reason"] == "killed by SIGKILL" and record["recovered_s"] is not None
    # real time went on while no capture ran: up to its recovery of frames were never made
    downtime = round(record["recovered_s"] * 1000 / FRAME_MS) + HEARTBEAT_FRAMES
    assert_accounted(report, run.rec, HEARTBEAT_FRAMES + HWM_FRAMES, uncaptured=downtime)
    stream = ended.stream()
    assert stream["duplicates"] == 0 and stream["out_of_order"] == 0
    assert stream["next_seq"] > 250  # the replacement went on at real-time position


@pytest.mark.parametrize("name", ["sender-1", "capture"])
def test_sigstop_is_a_hang_and_is_replaced(start: Start, name: str) -> None:
    run = start("--duration", "8", "--hang-timeout-ms", "1000")
    pid = wait_child_pid(run.run_dir, name)
    time.sleep(1.0)
    os.kill(pid, signal.SIGSTOP)
    wait_child_pid(run.run_dir, name, timeout=20, not_pid=pid)
    ended = finish(run)
    report = ended.report
    [record] = records(report, name)
    assert record["reason"].startswith("hang"), record
    assert record["recovered_s"] is not None
    assert ended.stream()["next_seq"] > 300  # audio flowed again after the hang


def test_leaking_sender_is_recycled_alone(start: Start) -> None:
    run = start(
        "--duration", "8", "--sender-max-rss-mb", "90", env={"AUDIO_UPLINK_TEST_LEAK": "sender:30"}
    )
    siblings = {n: wait_child_pid(run.run_dir, n) for n in ("capture", "receiver")}
    poll_for(
        lambda: any(
            r["name"] == "sender-1" and r["restarts"] >= 1
            for r in live_status(run.run_dir).get("processes", [])
        ),
        timeout=30,
    )
    assert {n: wait_child_pid(run.run_dir, n) for n in siblings} == siblings
    ended = finish(run)
    report = ended.report
    memory = records(report, "sender-1")
    assert memory and all(r["reason"].startswith("memory") for r in memory)
    assert report["processes"]["capture"]["restarts"] == 0
    assert report["processes"]["receiver"]["restarts"] == 0
    assert_accounted(report, run.rec, len(memory) * (WINDOW + HWM_FRAMES))


def test_crash_at_every_start_hits_the_intensity_limit(start: Start) -> None:
    run = start(
        "--duration", "60", "--max-restarts", "3", env={"AUDIO_UPLINK_TEST_CRASH": "capture"}
    )
    ended = finish(run)
    report, err = ended.report, ended.err
    assert ended.code == 1
    assert "capture failed: more than 3 restarts" in err
    assert "crashing at start" in err  # the child's own last words
    assert report["stop_reason"] == "capture failed"


def test_sigkill_of_the_supervisor_leaves_no_child(start: Start) -> None:
    run = start("--duration", "60")
    pids = [wait_child_pid(run.run_dir, n) for n in ("receiver", "sender-1", "capture")]
    run.proc.kill()
    run.proc.wait(timeout=10)
    poll_for(lambda: not any(_alive(pid) for pid in pids), timeout=1.0, interval=0.02)


def test_a_new_supervisor_cleans_up_after_a_killed_one(start: Start, run_dir: Path) -> None:
    first = start("--duration", "60")
    wait_child_pid(run_dir, "capture")
    first.proc.kill()
    first.proc.communicate(timeout=10)
    second = start("--duration", "2")
    ended = finish(second)
    report = ended.report
    assert ended.code == 0 and report["frames"]["acked"] > 50


def test_sigterm_stops_cleanly_and_writes_the_report(start: Start) -> None:
    run = start("--duration", "60")
    wait_child_pid(run.run_dir, "capture")
    time.sleep(1.5)
    run.proc.send_signal(signal.SIGTERM)
    ended = finish(run)
    report = ended.report
    assert ended.code == 0
    assert report["stop_reason"] == "SIGTERM received"
    assert report["frames"]["unaccounted"] == 0 and report["frames"]["acked"] > 50
    assert_report_matches_server(report, run.rec)


def test_control_commands(start: Start, run_dir: Path) -> None:
    run = start("--duration", "60")
    capture = wait_child_pid(run_dir, "capture")
    sender = wait_child_pid(run_dir, "sender-1")

    status = json.loads(control("status", "--json", run_dir=run_dir).stdout)
    rows = {r["name"]: r for r in status["processes"]}
    assert set(rows) == {"receiver", "sender-1", "capture"}
    assert rows["capture"]["pid"] == capture and rows["capture"]["state"] == "running"
    assert all(r["rss_mb"] > 0 and r["restarts"] == 0 for r in rows.values())
    table = control("status", run_dir=run_dir).stdout
    assert "sender-1" in table and "RESTARTS" in table

    control("restart", "sender-1", run_dir=run_dir)
    wait_child_pid(run_dir, "sender-1", not_pid=sender)
    assert wait_child_pid(run_dir, "capture") == capture
    bad = control("restart", "nobody", run_dir=run_dir, code=2)
    assert "no process named 'nobody'" in bad.stderr

    control("stop", run_dir=run_dir)
    ended = finish(run)
    report = ended.report
    assert ended.code == 0 and report["stop_reason"] == "stop requested"
    assert records(report, "sender-1")[0]["reason"].startswith("requested")


def test_control_without_a_supervisor(tmp_path: Path) -> None:
    result = control("status", run_dir=tmp_path / "nobody-here", code=1)
    assert result.stderr.count("\n") == 1 and "no supervisor running" in result.stderr


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
