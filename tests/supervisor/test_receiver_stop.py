"""The embedded receiver stops at once on SIGTERM with senders connected (issue 14 item 5).

It used to wait for its websocket clients to leave (30-45 s): supervised, every
receiver restart was a 5 s stall, then SIGKILL, recorded as a hang.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.support import Procs, control, poll_for, start_supervisor, wait_child_pid


def test_a_requested_receiver_restart_is_prompt_and_recorded_as_requested(
    procs: Procs, run_dir: Path
) -> None:
    run = start_supervisor(procs, run_dir, "--duration", "60", stdout=subprocess.PIPE)
    old = wait_child_pid(run_dir, "receiver")
    poll_for((run.rec / "main.wav").exists, timeout=30)  # a sender is connected
    asked = time.monotonic()
    control("restart", "receiver", run_dir=run_dir)
    wait_child_pid(run_dir, "receiver", timeout=30, not_pid=old)
    took = time.monotonic() - asked
    control("stop", run_dir=run_dir)
    ended = run.wait(timeout=60)
    report, err = ended.report, ended.err
    [record] = [r for r in report["restarts"] if r["process"] == "receiver"]
    assert record["reason"].startswith("requested"), record
    assert took < 4.0, took  # the stop timeout (5 s) was never reached
    assert "SIGKILL" not in err
