"""One supervised child: how it is spawned, stopped and restarted."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supervisor.child import save_config
from supervisor.restart import Backoff

logger = logging.getLogger(__name__)


@dataclass
class Child:
    """A named slot (``capture``, ``sender-1``, ``receiver``) and the process in it."""

    name: str
    module: str
    run_dir: Path
    make_config: Callable[[Child], Any]
    backoff: Backoff = field(default_factory=Backoff)
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    restart_at: float | None = None
    last_exit: str = ""
    exits: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def spawn(self) -> None:
        """A fresh interpreter, in its own process group, with its config in a 0600 file."""
        path = self.run_dir / f"{self.name}.json"
        save_config(self.make_config(self), path)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.module, "--config", str(path)],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.started_at = time.monotonic()
        self.restart_at = None
        logger.info("supervisor %d started %s as pid %d", os.getpid(), self.name, self.proc.pid)

    def reap(self) -> int | None:
        """The exit code if the process has ended since the last look (once), else None."""
        if self.proc is None:
            return None
        code = self.proc.poll()
        if code is None:
            return None
        self.last_exit = describe_exit(code)
        self.exits.append(self.last_exit)
        del self.exits[:-20]
        self.proc = None
        return code

    def schedule_restart(self, now: float) -> float:
        delay = self.backoff.delay(now - self.started_at)
        self.restart_at = now + delay
        return delay

    def signal(self, sig: int) -> None:
        if self.alive and self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, sig)


def describe_exit(code: int) -> str:
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"
