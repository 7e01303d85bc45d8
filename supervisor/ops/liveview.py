"""The status table `supervisor start` keeps at the bottom of a terminal.

Redrawing in place means moving the cursor up over the last table, so the
table must be exactly as many screen lines as it has rows: each row is cut
to the terminal's width (a wrapped row would take two), and the table to
its height. Log lines (the supervisor's and its children's, on stderr)
would land inside the table and be overwritten by the next redraw: while
the table is shown, stderr goes through :class:`_AboveTable`, which erases
the table, writes the complete lines, and draws the table again below them.
"""

from __future__ import annotations

import io
import logging
import shutil
import sys
import threading
import time
from typing import Any, TextIO

from supervisor.ops.control import format_status

_ERASE_TO_END = "\x1b[J"


def fit(text: str, columns: int, lines: int) -> list[str]:
    """The table cut to the screen: rows no wider than ``columns - 1``, at most ``lines``."""
    width = max(columns - 1, 1)  # the last column would leave the cursor in a pending wrap
    rows = [row[:width] for row in text.splitlines()]
    if len(rows) > lines:
        more = f"... {len(rows) - lines + 1} more"
        rows = [*rows[: max(lines - 1, 0)], more[:width]]
    return rows


class LiveView:
    """A table redrawn in place on a terminal; a plain line per process elsewhere."""

    def __init__(self, out: TextIO = sys.stdout, interval_s: float | None = None) -> None:
        self.out = out
        self.tty = out.isatty()
        self.interval_s = interval_s or (1.0 if self.tty else 10.0)
        self.next_at = time.monotonic() + self.interval_s
        self.drawn = 0
        self.rows: list[str] = []
        self.lock = threading.RLock()  # log lines may come from other threads
        self._real_err: TextIO | None = None
        if self.tty and sys.stderr.isatty():
            self._route_stderr()

    def due(self, now: float) -> bool:
        return now >= self.next_at

    def update(self, status: dict[str, Any], now: float) -> None:
        if not self.due(now):
            return
        self.next_at = now + self.interval_s
        if not self.tty:
            self._plain(status)
            return
        size = shutil.get_terminal_size()
        with self.lock:
            self.erase()
            self.rows = fit(format_status(status), size.columns, size.lines - 1)
            self.draw()

    def erase(self) -> None:
        if self.drawn:
            self.out.write(f"\x1b[{self.drawn}F{_ERASE_TO_END}")
            self.out.flush()
            self.drawn = 0

    def draw(self) -> None:
        self.out.write("".join(f"{row}\x1b[K\n" for row in self.rows))
        self.out.flush()
        self.drawn = len(self.rows)

    def _plain(self, status: dict[str, Any]) -> None:
        for r in status["processes"]:
            self.out.write(
                f"status {r['name']} pid={r['pid']} state={r['state']} "
                f"restarts={r['restarts']} rss_mb={r['rss_mb']} in={r['frames_in']} "
                f"out={r['frames_out']} drops={r['drops']}{_levels(r.get('levels'))}\n"
            )
        self.out.flush()

    def _route_stderr(self) -> None:
        """sys.stderr, and the log handlers that hold the original, write above the table."""
        self._real_err = sys.stderr
        above = _AboveTable(self, sys.stderr)
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is self._real_err:
                handler.setStream(above)
        sys.stderr = above

    def close(self) -> None:
        """Leave the last table on screen and give stderr back."""
        real, self._real_err = self._real_err, None
        if real is None:
            return
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stderr:
                handler.setStream(real)
        sys.stderr = real


def _levels(levels: dict[str, Any] | None) -> str:
    if levels is None:
        return ""
    alarms = ",".join(levels["alarms"]) or "none"
    return f" rms_db={levels['rms_db']} peak_db={levels['peak_db']} alarms={alarms}"


class _AboveTable(io.TextIOBase):
    """stderr while the table is shown: whole lines only, each written above the table."""

    def __init__(self, view: LiveView, real: TextIO) -> None:
        self.view, self.real, self.pending = view, real, ""

    def write(self, text: str) -> int:
        with self.view.lock:
            self.pending += text
            lines, sep, self.pending = self.pending.rpartition("\n")
            if sep:
                self.view.erase()
                self.real.write(lines + sep)
                self.real.flush()
                self.view.draw()
        return len(text)

    def flush(self) -> None:
        self.real.flush()

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.real.fileno()
