"""A child recycled for memory again and again fails like a crash loop, naming its server."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support import Procs, start_supervisor


def test_memory_recycles_count_toward_the_restart_intensity(procs: Procs, run_dir: Path) -> None:
    run = start_supervisor(
        procs,
        run_dir,
        *("--duration", "120", "--sender-max-rss-mb", "70", "--max-restarts", "2"),
        stdout=subprocess.PIPE,
        env={"AUDIO_UPLINK_TEST_LEAK": "sender:200"},  # refilled as fast as it is replaced
    )
    ended = run.wait(timeout=90)
    err = ended.err
    assert ended.code == 1, err[-2000:]
    assert "sender-1 failed: more than 2 restarts in 60 s; last: memory" in err
    assert "(server http://127.0.0.1:" in err
    assert ended.report["stop_reason"] == "sender-1 failed"
