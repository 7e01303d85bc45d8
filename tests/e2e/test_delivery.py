"""No fault loses a frame still inside its mode's budget (docs/delivery.md).

Each test kills or closes something from outside, then checks the server's
own evidence: the embedded receiver's stats.json and WAV, or the fake
server's log of handled seqs. In ``complete`` mode nothing may be missing;
in ``live`` mode only what the report counts as ``stale``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_flow_servers import FakeServer, run_supervisor
from tests.support import (
    Procs,
    expected_tone,
    live_status,
    poll_for,
    read_wav,
    scale,
    start_pipeline,
    wait_child_pid,
    wait_running_senders,
)

MODES = ["complete", "live"]


def start(procs: Procs, run_dir: Path, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    with (tmp_path / "supervisor.err").open("w") as err:
        rec, report = tmp_path / "rec", tmp_path / "r.json"
        return start_pipeline(procs, run_dir, rec, report, *args, stderr=err)


def finish(proc: subprocess.Popen[str], tmp_path: Path) -> dict[str, Any]:
    assert proc.wait(timeout=120) == 0
    err = (tmp_path / "supervisor.err").read_text()
    assert "Traceback" not in err, err
    return dict(json.loads((tmp_path / "r.json").read_text()))


def received(tmp_path: Path) -> dict[str, Any]:
    return dict(json.loads((tmp_path / "rec" / "stats.json").read_text())["streams"]["main"])


def assert_complete_or_stale(mode: str, report: dict[str, Any], stream: dict[str, Any]) -> None:
    """complete: every captured seq reached the server; live: what did not is counted stale."""
    frames = report["frames"]
    assert frames["unaccounted"] == 0, frames
    assert stream["next_seq"] == frames["captured"], (frames, stream)
    lost = {k: v for k, v in frames["dropped"].items() if v and k != "stale"}
    assert not lost, frames  # nothing lost to the fault itself
    if mode == "complete":
        assert stream["missing"] == 0 and frames["dropped"]["stale"] == 0, (frames, stream)
    else:  # a hole in the file is a seq that never came: it must be one counted stale
        assert stream["missing"] <= frames["dropped"]["stale"], (frames, stream)


@pytest.mark.parametrize("mode", MODES)
def test_a_killed_only_sender_loses_nothing(
    procs: Procs, run_dir: Path, tmp_path: Path, mode: str
) -> None:
    proc = start(procs, run_dir, tmp_path, "--delivery", mode, "--duration", "7")
    pid = wait_child_pid(run_dir, "sender-1")
    poll_for(lambda: live_status(run_dir).get("uptime_s", 0) > 3, timeout=30)
    os.kill(pid, signal.SIGKILL)
    wait_child_pid(run_dir, "sender-1", not_pid=pid)
    report = finish(proc, tmp_path)
    stream = received(tmp_path)
    assert_complete_or_stale(mode, report, stream)
    if mode == "complete":
        _, audio = read_wav(tmp_path / "rec" / "main.wav")
        assert audio == expected_tone(report["frames"]["captured"])  # no gap, no copy


@pytest.mark.parametrize("mode", MODES)
def test_three_senders_one_killed_every_two_seconds(
    procs: Procs, run_dir: Path, tmp_path: Path, mode: str
) -> None:
    proc = start(procs, run_dir, tmp_path, "--delivery", mode, "--senders", "3", "--duration", "22")
    wait_child_pid(run_dir, "capture")
    for i in range(10):
        time.sleep(2)
        victim = f"sender-{i % 3 + 1}"
        os.kill(wait_child_pid(run_dir, victim), signal.SIGKILL)
    report = finish(proc, tmp_path)
    stream = received(tmp_path)
    assert_complete_or_stale(mode, report, stream)
    assert sum(p["restarts"] for n, p in report["processes"].items() if "sender" in n) == 10
    # the receiver wrote each seq once, whatever arrived twice
    assert stream["frames"] + stream["missing"] == report["frames"]["captured"], stream
    if mode == "complete":
        _, audio = read_wav(tmp_path / "rec" / "main.wav")
        assert audio == expected_tone(report["frames"]["captured"])  # no gap, no copy


def test_a_hung_sender_s_frames_reach_the_server_through_the_other(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    """SIGSTOP is not death: its frames go again; when it wakes, copies are dropped."""
    args = ("--delivery", "complete", "--senders", "2", "--hang-timeout-ms", "60000")
    proc = start(procs, run_dir, tmp_path, *args, "--duration", "9")
    pid = wait_child_pid(run_dir, "sender-1")
    poll_for(lambda: live_status(run_dir).get("uptime_s", 0) > 3, timeout=30)
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(3)
    finally:
        os.kill(pid, signal.SIGCONT)
    report = finish(proc, tmp_path)
    stream, frames = received(tmp_path), report["frames"]
    assert frames["unaccounted"] == 0 and frames["acked"] == frames["captured"], frames
    # every seq reached the server; one that came late filled its hole in the file
    assert stream["missing"] == 0 and stream["next_seq"] == frames["captured"], stream
    _, audio = read_wav(tmp_path / "rec" / "main.wav")
    assert audio == expected_tone(frames["captured"])  # no gap, no copy
    assert frames["retransmitted"] > 0 and report["processes"]["sender-1"]["restarts"] == 0


@pytest.mark.parametrize("mode", MODES)
def test_scale_one_to_four_to_one(procs: Procs, run_dir: Path, tmp_path: Path, mode: str) -> None:
    proc = start(procs, run_dir, tmp_path, "--delivery", mode, "--duration", "60")
    wait_child_pid(run_dir, "capture")
    for n in (4, 1):
        time.sleep(2)
        scale(run_dir, n)
        wait_running_senders(run_dir, n)
    time.sleep(1.5)
    proc.send_signal(signal.SIGTERM)
    report = finish(proc, tmp_path)
    assert_complete_or_stale(mode, report, received(tmp_path))


@pytest.mark.parametrize("mode", MODES)
def test_server_killed_and_back_three_seconds_later(
    procs: Procs, tmp_path: Path, mode: str
) -> None:
    """complete: all of it arrives; live: what is missing was counted stale, nothing else."""
    server = FakeServer(procs, tmp_path / "handled.log")
    server.start()
    proc = run_supervisor(procs, tmp_path, server.url, "--delivery", mode, "--duration", "10")
    poll_for(lambda: len(server.handled()) > 50, timeout=30)
    server.signal(signal.SIGKILL)
    time.sleep(3)
    server.start()
    report = finish(proc, tmp_path)
    frames = report["frames"]
    missing = set(range(frames["captured"])) - {seq for _, seq, _, _ in server.handled()}
    assert frames["unaccounted"] == 0, frames
    assert not {k: v for k, v in frames["dropped"].items() if v and k != "stale"}, frames
    if mode == "complete":
        assert not missing and frames["dropped"]["stale"] == 0, (sorted(missing), frames)
    else:
        assert missing and len(missing) <= frames["dropped"]["stale"], frames


def test_frames_in_flight_when_the_server_closes_arrive_after_the_reconnect(
    procs: Procs, tmp_path: Path
) -> None:
    server = FakeServer(procs, tmp_path / "handled.log", "--close-after", "500")
    server.start()
    args = ("--delivery", "complete", "--no-pace", "--duration", "4")
    report = finish(run_supervisor(procs, tmp_path, server.url, *args), tmp_path)
    frames = report["frames"]
    seqs = {seq for _, seq, _, _ in server.handled()}
    assert frames["captured"] > 600 and seqs == set(range(frames["captured"])), frames
    assert frames["retransmitted"] > 0 and frames["acked"] == frames["captured"], frames
