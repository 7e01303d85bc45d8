"""Helpers for tests: waiting with deadlines, expected signals, process bookkeeping."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def poll_for(condition: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    """Wait until condition() is truthy; fail the test (not hang) after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s: {condition}")


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
    result = subprocess.run(
        supervisor_cmd("scale", "senders", str(n), "--run-dir", str(run_dir)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result


def running_senders(run_dir: Path) -> int:
    rows = live_status(run_dir).get("processes", [])
    return sum(1 for r in rows if r["role"] == "sender" and r["state"] == "running")


def start_pipeline(
    procs: Procs,
    run_dir: Path,
    rec: Path,
    report: Path,
    *args: str,
    stderr: Any = subprocess.PIPE,
    stdin: Any = subprocess.DEVNULL,
) -> subprocess.Popen[str]:
    """`supervisor start` on the embedded defaults: WAVs into ``rec``, the report to ``report``."""
    cmd = supervisor_cmd(
        "start", "--run-dir", str(run_dir), "--recordings", str(rec), "--report", str(report)
    )
    return procs.start([*cmd, *args], stdin=stdin, stdout=subprocess.DEVNULL, stderr=stderr)
