"""The end-of-run report built in-process from heartbeats: its arithmetic, its summary, its file.

The end-to-end proofs (the report against the receiver's WAV) are in
test_faults.py and tests/e2e/; these feed supervisor.ops.report exactly the
counters a case needs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from supervisor.ops import report
from supervisor.ops.stats import Stats
from supervisor.process import Child
from uplink_runtime.roles import Role


def beat(
    stats: Stats,
    name: str,
    pid: int,
    counters: dict[str, int],
    hist: dict[int, int] | None = None,
    **info: Any,
) -> None:
    role = Role(name.partition("-")[0])  # as the heartbeat of capture, sender-N, receiver says
    stats.update(
        {
            "name": name,
            "role": role,
            "pid": pid,
            "counters": counters,
            "hist": hist or {},
            "info": info,
        }
    )


def slot(name: str, role: str, tmp_path: Path, restarts: int = 0) -> Child:
    child = Child(name, Role(role), f"{role}_proc", tmp_path, make_config=lambda c: {})
    child.restarts = restarts
    return child


def test_every_captured_frame_is_acked_written_dropped_or_unaccounted(tmp_path: Path) -> None:
    stats = Stats()
    counters = {"captured": 100, "fin.acked": 60, "fin.written": 5, "dropped.hwm": 4}
    beat(stats, "capture", 1, {**counters, "fin.stale": 3, "stale": 2, "evicted": 1})
    result = report.build(stats, [slot("capture", "capture", tmp_path)], duration_s=2.0)
    frames = result["frames"]
    assert frames["acked"] == 60 and frames["written"] == 5
    assert frames["dropped"]["hwm"] == 4 and frames["dropped"]["evicted"] == 1
    assert frames["dropped"]["stale"] == 5  # aged in a sender's queue, or in capture's ring
    assert frames["unaccounted"] == 100 - 60 - 5 - 4 - 5 - 1 == 25


def test_every_drop_reason_is_reported_even_when_zero(tmp_path: Path) -> None:
    stats = Stats()
    beat(stats, "capture", 1, {"captured": 1, "fin.acked": 1})
    dropped = report.build(stats, [], duration_s=1.0)["frames"]["dropped"]
    assert set(dropped) == {
        "hwm",
        "queue",
        "disconnected",
        "backlog",
        "ack_timeout",
        "rejected",
        "evicted",
        "shutdown",
        "stale",
    }
    assert not any(dropped.values())


def test_counts_survive_restarts_and_sum_over_senders(tmp_path: Path) -> None:
    stats = Stats()
    beat(stats, "capture", 1, {"captured": 40, "fin.acked": 40})
    beat(stats, "capture", 2, {"captured": 60, "fin.acked": 55})  # the replacement
    beat(stats, "sender-1", 3, {"sent": 50, "retransmitted": 2}, {100: 3})
    beat(stats, "sender-2", 4, {"sent": 45, "bad_frame": 1}, {100: 1, 300: 1})
    children = [
        slot("capture", "capture", tmp_path, restarts=1),
        slot("sender-1", "sender", tmp_path),
        slot("sender-2", "sender", tmp_path),
    ]
    result = report.build(stats, children, duration_s=3.0)
    assert result["frames"]["captured"] == 100 and result["frames"]["acked"] == 95
    assert result["frames"]["sent"] == 95 and result["frames"]["retransmitted"] == 2
    assert result["frames"]["bad"] == 1
    assert result["processes"]["capture"]["restarts"] == 1
    assert result["latency_ms"]["p50"] is not None  # five samples from two senders


def test_each_process_reports_its_peak_memory_and_cpu(tmp_path: Path) -> None:
    stats = Stats()
    beat(stats, "sender-1", 1, {}, rss_mb=30.0, cpu_s=1.5)
    beat(stats, "sender-1", 2, {}, rss_mb=20.0, cpu_s=0.25)
    child = slot("sender-1", "sender", tmp_path)
    child.exits.append("killed by SIGKILL")
    row = report.build(stats, [child], duration_s=1.0)["processes"]["sender-1"]
    assert row == {"restarts": 0, "max_rss_mb": 30.0, "cpu_s": 1.75, "exits": ["killed by SIGKILL"]}


def test_the_receiver_section_appears_only_when_a_receiver_reported(tmp_path: Path) -> None:
    stats = Stats()
    beat(stats, "capture", 1, {"captured": 1})
    assert "receiver" not in report.build(stats, [], duration_s=1.0)
    beat(stats, "receiver", 2, {"frames": 9, "missing": 1})
    result = report.build(stats, [], duration_s=1.0)
    assert result["receiver"] == {"frames": 9, "missing": 1}


def test_the_summary_says_what_happened_in_a_few_lines(tmp_path: Path) -> None:
    stats = Stats()
    beat(stats, "capture", 1, {"captured": 10, "fin.acked": 8, "dropped.hwm": 2})
    beat(stats, "receiver", 2, {"frames": 8, "missing": 2})
    result = report.build(stats, [slot("capture", "capture", tmp_path)], duration_s=1.25)
    result["link_errors"] = {"sender-1": {"kind": "unreachable", "text": "no route"}}
    lines = report.summary(result).splitlines()
    assert lines[0] == "audio-uplink ran 1.2 s"
    assert lines[1] == "  frames: captured 10, sent 0, acked 8, unaccounted 0"
    assert lines[2] == "  dropped: hwm 2"
    assert lines[3].startswith("  latency capture->ack ms: ") and " -" in lines[3]
    assert "  receiver: frames 8, missing 2, duplicates 0, out of order 0" in lines
    assert "  sender-1: last connect error: no route" in lines
    assert lines[-1] == "  capture: restarts 0, max RSS 0.0 MB, CPU 0.0 s"


def test_a_clean_summary_says_none_dropped_and_names_only_what_happened() -> None:
    stats = Stats()
    beat(stats, "capture", 1, {"captured": 5, "fin.acked": 5})
    text = report.summary(report.build(stats, [], duration_s=1.0))
    assert "  dropped: none" in text.splitlines()
    assert "written" not in text and "receiver" not in text and "device" not in text


def test_a_reopened_device_is_named_with_its_gap() -> None:
    stats = Stats()
    beat(stats, "capture", 1, {"captured": 5, "device_reopen": 1, "gap_ms": 40, "gap_frames": 2})
    text = report.summary(report.build(stats, [], duration_s=1.0))
    assert "  device: reopened 1 time(s), gap 40 ms (2 frames)" in text.splitlines()


def test_the_report_file_replaces_a_planted_link_and_does_not_write_through_it(
    tmp_path: Path,
) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    path = tmp_path / "report.json"
    path.symlink_to(victim)
    result = {"frames": {"captured": 1}}
    report.write(result, str(path))
    assert victim.read_text() == "precious\n"
    assert not path.is_symlink() and json.loads(path.read_text()) == result
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "victim"]
