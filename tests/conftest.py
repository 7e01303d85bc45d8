"""Fixtures that start real processes and always clean them up."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Procs


@pytest.fixture
def procs() -> Iterator[Procs]:
    started = Procs()
    try:
        yield started
    finally:
        started.cleanup()


@pytest.fixture
def run_dir() -> Iterator[Path]:
    """Short, private: ipc:// paths must stay under 107 bytes."""
    path = Path(tempfile.mkdtemp(prefix="au-", dir="/tmp"))
    try:
        yield path / "run"
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def external_receiver(
    procs: Procs, tmp_path: Path
) -> Iterator[tuple[str, Path, subprocess.Popen[str]]]:
    """A receiver started on its own, as a user's server would be."""
    out = tmp_path / "ext-recordings"
    proc = procs.start(
        [sys.executable, "-m", "receiver", "--port", "0", "--out", str(out)],
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the first line names the port; readline is bounded by the
    match = re.search(r"http://[\d.]+:\d+", line)  # test timeout
    assert match, f"receiver did not announce its port: {line!r}"
    yield match.group(0), out, proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
