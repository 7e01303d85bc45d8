"""The live status table in a real pseudo-terminal, read back through a terminal emulator.

A row wider than the terminal would wrap and the in-place redraw would then
overwrite the wrong lines; a log line printed between two redraws would be
overwritten by the next one. pyte plays the bytes the supervisor wrote to
the pty back onto a screen, as a terminal would show them.
"""

from __future__ import annotations

import fcntl
import os
import struct
import subprocess
import termios
import threading
from pathlib import Path

import pyte

from supervisor.ops.liveview import fit
from tests.support import Procs, control, poll_for, start_supervisor

COLUMNS, LINES = 60, 300  # tall: nothing scrolls off, every line stays to be checked


class Pty:
    """A pseudo-terminal of a given size; collects everything written to it."""

    def __init__(self, columns: int, lines: int) -> None:
        self.master, self.slave = os.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        self.output = bytearray()
        self.reader = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: every writer closed the slave side
                return
            if not chunk:
                return
            self.output += chunk

    def screen(self, columns: int, lines: int) -> list[str]:
        screen = pyte.Screen(columns, lines)
        pyte.ByteStream(screen).feed(bytes(self.output))
        return list(screen.display)


def test_table_fits_and_log_lines_stay_above_it(procs: Procs, run_dir: Path) -> None:
    pty = Pty(COLUMNS, LINES)
    proc = start_supervisor(
        procs,
        run_dir,
        "--duration",
        "10",
        stdin=subprocess.DEVNULL,
        stdout=pty.slave,
        stderr=pty.slave,
        env={"COLUMNS": str(COLUMNS), "LINES": str(LINES)},
    ).proc
    os.close(pty.slave)
    pty.reader.start()
    try:
        poll_for(lambda: b"NAME" in pty.output, 60)  # the table is up
        control("restart", "sender-1", run_dir=run_dir)
        poll_for(lambda: pty.output.count(b"started sender-1 as pid") >= 2, 60)
        assert proc.wait(timeout=90) == 0
    finally:
        pty.reader.join(timeout=10)
        os.close(pty.master)

    display = pty.screen(COLUMNS, LINES)
    headers = [i for i, line in enumerate(display) if line.startswith("NAME ")]
    assert len(headers) == 1, "\n".join(display)  # redrawn in place, never left behind
    table = display[headers[0] : headers[0] + 4]
    assert sorted(row.split()[0] for row in table) == ["NAME", "capture", "receiver", "sender-1"]
    # every log line is whole on the screen (a wrapped one fills its lines exactly)
    text = "".join(display)
    assert text.count("started sender-1 as pid") == 2, "\n".join(display)
    last_log = text.rindex("started sender-1 as pid")
    assert last_log < headers[0] * COLUMNS, "\n".join(display)  # logs above the table


def test_fit_cuts_rows_to_the_width_and_the_table_to_the_height() -> None:
    text = "\n".join(f"row{i} " + "x" * 100 for i in range(10))
    rows = fit(text, columns=40, lines=4)
    assert rows[:3] == [f"row{i} " + "x" * 34 for i in range(3)]
    assert rows[3] == "... 7 more" and len(rows) == 4
    assert all(len(row) <= 39 for row in rows)
