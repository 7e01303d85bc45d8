"""One supervised child slot: spawning, signalling, reaping, and its stderr tail."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supervisor.reasons import Reason
from supervisor.restart import Intensity
from supervisor.watchdog import Health
from uplink_runtime.backoff import Backoff
from uplink_runtime.child import save_config
from uplink_runtime.roles import Role

logger = logging.getLogger(__name__)
_TAIL_LINES = 20


@dataclass
class Retiring:
    """A replaced process still finishing what it holds (sender overlap)."""

    proc: subprocess.Popen[bytes]
    since: float
    signalled_at: float | None = None


@dataclass
class Child:
    """A named slot (``capture``, ``sender-1``, ``receiver``) and the process in it."""

    name: str
    role: Role
    module: str
    run_dir: Path
    make_config: Callable[[Child], Any]
    # the first restart at once; then 0.1 s doubling (uplink_runtime/backoff.py)
    backoff: Backoff = field(default_factory=lambda: Backoff(first_s=0.0))
    intensity: Intensity = field(default_factory=Intensity)
    proc: subprocess.Popen[bytes] | None = None
    health: Health = field(default_factory=Health)
    started_at: float = 0.0
    restarts: int = 0
    restart_at: float | None = None
    kill_at: float | None = None
    pending_reason: Reason | None = None
    last_exit: str = ""
    exits: deque[str] = field(default_factory=lambda: deque(maxlen=20))
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=_TAIL_LINES))
    retiring: list[Retiring] = field(default_factory=list)
    open_record: dict[str, Any] | None = None
    last_pid: int | None = None
    removed: bool = False  # scaled away or its source ended: never restarted
    stdin_once: bool = False  # the first process gets the supervisor's stdin (pipe:-)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def spawn(self, now: float) -> None:
        """A fresh interpreter, in its own process group, with its config in a 0600 file."""
        path = self.run_dir / f"{self.name}.json"
        save_config(self.make_config(self), path)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.module, "--config", str(path)],
            stdin=0 if self.stdin_once and self.last_pid is None else subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.started_at = now
        self.restart_at = self.kill_at = None
        self.health = Health(started_at=now)
        logger.info("supervisor %d started %s as pid %d", os.getpid(), self.name, self.proc.pid)

    def reap(self) -> int | None:
        """The exit code if the process has ended since the last look (once), else None."""
        self.retiring = [r for r in self.retiring if r.proc.poll() is None]
        if self.proc is None or self.proc.poll() is None:
            return None
        code = self.proc.returncode
        self.last_pid = self.proc.pid
        self.last_exit = describe_exit(code)
        self.exits.append(self.last_exit)
        self.proc = None
        return code

    def schedule_restart(self, now: float, delay: float | None = None) -> float:
        if delay is None:
            delay = self.backoff.delay(now - self.started_at)
        self.restart_at = now + delay
        return delay

    def signal(self, sig: int) -> None:
        if self.alive and self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, sig)

    def terminate(self, reason: Reason, grace_s: float) -> None:
        """SIGTERM now and SIGKILL at ``kill_at`` unless it has exited (see ``enforce``)."""
        self.pending_reason = reason
        self.signal(signal.SIGTERM)
        self.kill_at = time.monotonic() + grace_s

    def enforce(self, now: float) -> None:
        if self.kill_at is not None and now >= self.kill_at and self.alive:
            logger.warning(
                "supervisor: %s (pid %s) did not stop in time, SIGKILL", self.name, self.pid
            )
            self.signal(signal.SIGKILL)
            self.kill_at = None

    def signal_all(self, sig: int) -> None:
        self.signal(sig)
        for r in self.retiring:
            with contextlib.suppress(ProcessLookupError):
                r.proc.send_signal(sig)

    def kill_all(self) -> None:
        self.signal_all(signal.SIGKILL)


def describe_exit(code: int) -> str:
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"
