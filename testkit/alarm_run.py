"""A `supervisor start --source mic` whose alarm log lines are read as they come, with their times.

Shared by tests/capture_proc/test_mic_levels.py and bench/audio.py. The
supervisor logs JSON lines; each carries the time its process logged it
(``ts``), so a latency is measured at capture, not when the line crossed
the supervisor's stderr relay.
"""

from __future__ import annotations

import calendar
import json
import subprocess
import threading
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

from testkit.wait import poll_for

RATE = 16000


def write_wav(path: Path, samples: np.ndarray[Any, Any]) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.astype("<i2").tobytes())
    return path


def tone_wav(path: Path, seconds: float, dbfs: float = -12.0, hz: float = 1000.0) -> Path:
    n = np.arange(round(seconds * RATE))
    return write_wav(path, np.round(32767 * 10 ** (dbfs / 20) * np.sin(2 * np.pi * hz * n / RATE)))


def square_wav(path: Path, seconds: float, hz: float = 500.0) -> Path:
    """Full scale: every sample is one of int16's two end codes."""
    n = np.arange(round(seconds * RATE))
    return write_wav(path, np.where((n * 2 * int(hz) // RATE) % 2 == 0, 32767, -32768))


def _epoch(ts: str) -> float:
    """``2026-12-05T02:35:32.123Z`` (supervisor/logfmt.py) as Unix time."""
    return calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")) + int(ts[20:23]) / 1000


class AlarmLog:
    """Reads the supervisor's stderr on a thread; keeps (log time, message) of each line."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        self.lines: list[tuple[float, str]] = []
        self.raw: list[str] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, args=(proc.stderr,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            with self._lock:
                self.raw.append(line)
                try:
                    entry = json.loads(line)
                    self.lines.append((_epoch(entry["ts"]), str(entry["msg"])))
                except (ValueError, KeyError, TypeError):
                    continue

    def find(self, text: str, after: float) -> tuple[float, str] | None:
        with self._lock:
            return next(((t, m) for t, m in self.lines if t >= after and text in m), None)

    def wait(self, text: str, after: float, timeout: float = 30) -> tuple[float, str]:
        """The first line logged at or after ``after`` that holds ``text``; its time and text."""
        found: tuple[float, str] = poll_for(lambda: self.find(text, after), timeout, 0.05)
        return found

    def tail(self) -> str:
        with self._lock:
            return "".join(self.raw[-30:])
