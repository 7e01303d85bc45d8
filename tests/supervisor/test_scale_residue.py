"""Scaling leaves no residue: a retired sender leaves every live view and the run directory,
its counts stay in the totals, and its clean stop is not an abnormal disconnect."""

from __future__ import annotations

import json
from pathlib import Path

from supervisor.retired import Kept
from supervisor.run import MAX_RESTART_RECORDS
from tests.support import (
    Procs,
    control,
    live_status,
    poll_for,
    run_status,
    scale,
    start_pipeline,
    wait_child_pid,
)

CYCLES = 3


def names(status: dict[str, object]) -> set[str]:
    return {str(row["name"]) for row in status.get("processes", [])}  # type: ignore[attr-defined]


def test_retired_senders_leave_no_residue_and_their_counts_stay(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    rec, report_path = tmp_path / "rec", tmp_path / "report.json"
    proc = start_pipeline(procs, run_dir, rec, report_path)
    wait_child_pid(run_dir, "capture")
    everyone = {"receiver", "sender-1", "capture"}
    for cycle in range(CYCLES):
        scale(run_dir, 2)
        wait_child_pid(run_dir, f"sender-{cycle + 2}")
        scale(run_dir, 1)
        poll_for(lambda: names(live_status(run_dir)) == everyone, timeout=30)
        poll_for(lambda: names(run_status(run_dir)) == everyone, timeout=30)
        configs = {p.name for p in run_dir.glob("*.json")}
        assert configs == {"receiver.json", "sender-1.json", "capture.json", "status.json"}
    control("stop", run_dir=run_dir)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "Traceback" not in err, err[-3000:]
    report = json.loads(report_path.read_text())
    assert set(report["processes"]) == everyone
    retired = [r["name"] for r in report["retired"]]
    assert retired == [f"sender-{n + 2}" for n in range(CYCLES)], report["retired"]
    assert report["retired_dropped"] == 0 and report["restarts_dropped"] == 0
    receiver = json.loads((rec / "stats.json").read_text())
    # the receiver's own count: every frame a retired sender got acked is still in the total
    assert report["frames"]["acked"] == receiver["streams"]["main"]["frames"]
    assert receiver["disconnects_abnormal"] == 0, receiver  # CYCLES + 1 clean stops
    assert receiver["clients"] == CYCLES + 1


def test_a_bounded_history_keeps_the_newest_and_counts_the_rest() -> None:
    kept: Kept[int] = Kept(MAX_RESTART_RECORDS)
    for n in range(MAX_RESTART_RECORDS + 37):
        kept.append(n)
    assert list(kept) == list(range(37, MAX_RESTART_RECORDS + 37)) and kept.dropped == 37
