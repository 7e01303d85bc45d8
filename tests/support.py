"""Helpers for tests: waiting with deadlines, expected signals, process bookkeeping.

Start a pipeline with ``start_supervisor(procs, run_dir, *flags)``; its
``Run`` gives the live ``status()``, and ``wait()``/``stop()`` give the
``Ended`` run: exit code, stderr, report and the receiver's stats.json. A
command run to its end (a refusal, ``check-config``) is ``run_supervisor``.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from testkit.wait import poll_for as poll_for  # noqa: PLC0414  (re-exported for the tests)

REPO = Path(__file__).resolve().parent.parent


def expected_tone(
    frames: int, samples_per_frame: int = 320, rate: int = 16000, hz: int = 440, first_seq: int = 0
) -> bytes:
    """The documented test tone, computed here independently of capture_proc."""
    period = rate // math.gcd(hz, rate)
    n = (np.arange(frames * samples_per_frame) + first_seq * samples_per_frame) % period
    amplitude = 32767 * 10 ** (-6 / 20)
    return np.round(amplitude * np.sin(2 * np.pi * hz * n / rate)).astype("<i2").tobytes()


def read_wav(path: Path) -> tuple[wave._wave_params, bytes]:
    with wave.open(str(path), "rb") as w:
        return w.getparams(), w.readframes(w.getnframes())


class Procs:
    """Every process a test starts; killed with its group at teardown."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, args: list[str], **kwargs: Any) -> subprocess.Popen[str]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **kwargs.pop("env", {})}
        proc = subprocess.Popen(args, text=True, env=env, start_new_session=True, **kwargs)
        self.procs.append(proc)
        return proc

    def cleanup(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                with _suppress_lookup():
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            for pipe in (proc.stdout, proc.stderr):
                if pipe:
                    pipe.close()


class _suppress_lookup:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return exc[0] is ProcessLookupError


def supervisor_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "supervisor", *args]


def run_supervisor(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python -m supervisor ARGS` run to its end (a refusal, a control command, a short run).

    ``env`` is added to this process's environment.
    """
    return subprocess.run(
        supervisor_cmd(*args),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The line a refused command says: exit code 2, one line on stderr, no traceback."""
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr, result.stderr[:2000]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[:2000]
    return lines[0]


def control(*args: str, run_dir: Path, code: int = 0) -> subprocess.CompletedProcess[str]:
    """A control command (`status`, `stop`, `restart NAME`...) against a running supervisor."""
    result = run_supervisor(*args, "--run-dir", str(run_dir))
    assert result.returncode == code, result
    return result


@dataclass(frozen=True)
class Ended:
    """How a `supervisor start` ended, and what it and its receiver left behind."""

    code: int
    out: str
    err: str
    report: dict[str, Any]  # the --report file; {} if none was written
    stats: dict[str, Any]  # the embedded receiver's stats.json; {} if none was written

    def stream(self, name: str = "main") -> dict[str, Any]:
        """The receiver's own counts for one stream."""
        return dict(self.stats["streams"][name])


@dataclass
class Run:
    """A running `supervisor start`: its process and where it writes."""

    proc: subprocess.Popen[str]
    run_dir: Path
    rec: Path
    report_path: Path

    def status(self) -> dict[str, Any]:
        """The live status over the control socket; {} while it is not up."""
        return live_status(self.run_dir)

    def wait(self, timeout: float = 90) -> Ended:
        """Wait for the supervisor to exit (bounded); its exit code, output, report and stats."""
        out, err = self.proc.communicate(timeout=timeout)
        return Ended(
            self.proc.returncode,
            out or "",
            err or "",
            _json(self.report_path),
            _json(self.rec / "stats.json"),
        )

    def stop(self, timeout: float = 90) -> Ended:
        """SIGTERM (a clean stop), then as ``wait``."""
        self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout)


def start_supervisor(
    procs: Procs,
    run_dir: Path,
    *flags: str,
    rec: Path | None = None,
    report: Path | None = None,
    env: dict[str, str] | None = None,
    stdout: Any = subprocess.DEVNULL,
    stderr: Any = subprocess.PIPE,
    **popen: Any,
) -> Run:
    """`supervisor start --run-dir RUN_DIR --recordings REC --report REPORT FLAGS...`.

    The receiver's WAVs go to ``rec`` (default: ``rec`` beside ``run_dir``),
    the report to ``report`` (default: ``report.json`` beside it). ``env`` is
    added to this process's environment; other keywords go to Popen (stdin,
    a pty for stdout). ``procs`` kills it at teardown, whatever happens.
    """
    rec = rec or run_dir.parent / "rec"
    report = report or run_dir.parent / "report.json"
    cmd = supervisor_cmd(
        "start", "--run-dir", str(run_dir), "--recordings", str(rec), "--report", str(report)
    )
    proc = procs.start([*cmd, *flags], stdout=stdout, stderr=stderr, env=env or {}, **popen)
    return Run(proc, run_dir, rec, report)


def _json(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text()))
    except FileNotFoundError:
        return {}


def run_status(run_dir: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((run_dir / "status.json").read_text()))
    except (OSError, ValueError):
        return {}


def live_status(run_dir: Path) -> dict[str, Any]:
    """The running supervisor's status over its control socket ({} if it is not up)."""
    from supervisor.ops.control import ControlError, request

    try:
        return request(str(run_dir), {"cmd": "status"})
    except ControlError:
        return {}


def child_pid(run_dir: Path, name: str) -> int | None:
    """The pid of a running child, asked of the supervisor itself."""
    for row in live_status(run_dir).get("processes", []):
        if row["name"] == name and row["state"] == "running":
            return int(row["pid"])
    return None


def wait_child_pid(
    run_dir: Path, name: str, timeout: float = 30, not_pid: int | None = None
) -> int:
    """Wait until a child is running (and is not ``not_pid``); its pid."""
    return int(
        poll_for(lambda: (pid := child_pid(run_dir, name)) and pid != not_pid and pid, timeout)
    )


def scale(run_dir: Path, n: int) -> None:
    """`supervisor scale senders N` against a running supervisor; fails the test if refused."""
    control("scale", "senders", str(n), run_dir=run_dir)


def running_senders(run_dir: Path) -> int:
    rows = live_status(run_dir).get("processes", [])
    return sum(1 for r in rows if r["role"] == "sender" and r["state"] == "running")


def wait_running_senders(run_dir: Path, n: int, timeout: float = 30) -> None:
    """Until exactly ``n`` senders are running (after a scale)."""
    poll_for(lambda: running_senders(run_dir) == n, timeout)


def start_pipeline(
    procs: Procs,
    run_dir: Path,
    rec: Path,
    report: Path,
    *args: str,
    stderr: Any = subprocess.PIPE,
    stdin: Any = subprocess.DEVNULL,
) -> subprocess.Popen[str]:
    """start_supervisor's process alone (its earlier form, kept for tests that use it)."""
    return start_supervisor(
        procs, run_dir, *args, rec=rec, report=report, stderr=stderr, stdin=stdin
    ).proc
