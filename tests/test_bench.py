"""Every bench/ program starts on the README set-up, or says in one line what is missing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support import REPO

PROGRAMS = sorted(p for p in (REPO / "bench").glob("[a-z]*.py"))


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.name)
def test_runs_on_the_set_up(program: object) -> None:
    result = subprocess.run(
        [sys.executable, str(program), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def test_a_python_without_the_packages_gets_one_line() -> None:
    """-S: no site-packages, as a system Python without the project installed."""
    result = subprocess.run(
        [sys.executable, "-S", str(REPO / "bench" / "scale.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("bench: ") and "scripts/bootstrap.sh" in line, line
    assert "websocket-client" in line
