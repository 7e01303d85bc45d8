"""Start a stand-alone reference receiver with extra flags (auth, TLS, limits)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support import Procs


def start_receiver(
    procs: Procs, out: Path, *flags: str, stderr: Any = None
) -> tuple[str, subprocess.Popen[str]]:
    """The receiver's URL (as it announces it) and its process."""
    proc = procs.start(
        [sys.executable, "-m", "receiver", "--port", "0", "--out", str(out), *flags],
        stdout=subprocess.PIPE,
        stderr=stderr,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # bounded by the test timeout
    match = re.search(r"https?://[\d.]+:\d+", line)
    assert match, f"receiver did not announce its port: {line!r}"
    return match.group(0), proc


def stop_receiver(proc: subprocess.Popen[str], out: Path) -> dict[str, Any]:
    """SIGTERM, wait, and the stats.json it wrote on the way out."""
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=15)
    return dict(json.loads((out / "stats.json").read_text()))
