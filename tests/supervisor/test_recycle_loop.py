"""A child recycled for memory again and again fails like a crash loop, naming its server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.support import Procs, supervisor_cmd


def test_memory_recycles_count_toward_the_restart_intensity(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    report = tmp_path / "r.json"
    proc = procs.start(
        supervisor_cmd(
            "start",
            "--duration",
            "120",
            "--run-dir",
            str(run_dir),
            "--recordings",
            str(tmp_path / "rec"),
            "--report",
            str(report),
            "--sender-max-rss-mb",
            "70",
            "--max-restarts",
            "2",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"AUDIO_UPLINK_TEST_LEAK": "sender:200"},  # refilled as fast as it is replaced
    )
    _, err = proc.communicate(timeout=90)
    assert proc.returncode == 1, err[-2000:]
    assert "sender-1 failed: more than 2 restarts in 60 s; last: memory" in err
    assert "(server http://127.0.0.1:" in err
    assert json.loads(report.read_text())["stop_reason"] == "sender-1 failed"
