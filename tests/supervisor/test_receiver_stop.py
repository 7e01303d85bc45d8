"""The embedded receiver stops at once on SIGTERM with senders connected (issue 14 item 5).

It used to wait for its websocket clients to leave (30-45 s): supervised, every
receiver restart was a 5 s stall, then SIGKILL, recorded as a hang.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from tests.supervisor.test_faults import control
from tests.support import Procs, poll_for, supervisor_cmd, wait_child_pid


def test_a_requested_receiver_restart_is_prompt_and_recorded_as_requested(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    report_path = tmp_path / "r.json"
    proc = procs.start(
        supervisor_cmd(
            "start",
            "--duration",
            "60",
            "--run-dir",
            str(run_dir),
            "--recordings",
            str(tmp_path / "rec"),
            "--report",
            str(report_path),
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    old = wait_child_pid(run_dir, "receiver")
    poll_for((tmp_path / "rec" / "main.wav").exists, timeout=30)  # a sender is connected
    asked = time.monotonic()
    control("restart", "receiver", run_dir=run_dir)
    wait_child_pid(run_dir, "receiver", timeout=30, not_pid=old)
    took = time.monotonic() - asked
    control("stop", run_dir=run_dir)
    _, err = proc.communicate(timeout=60)
    report = json.loads(report_path.read_text())
    [record] = [r for r in report["restarts"] if r["process"] == "receiver"]
    assert record["reason"].startswith("requested"), record
    assert took < 4.0, took  # the stop timeout (5 s) was never reached
    assert "SIGKILL" not in err
