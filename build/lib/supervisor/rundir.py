"""The private runtime directory: 0700, one live supervisor, stale leftovers cleaned."""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
from pathlib import Path
from typing import IO

from supervisor.config import ConfigError

_IPC_MAX = 107  # sun_path limit, less the terminating NUL


class RunDir:
    def __init__(self, path: str) -> None:
        self.path = Path(path).absolute()
        self._lock: IO[str] | None = None

    def endpoint(self, name: str) -> str:
        return f"ipc://{self.path / name}"

    def acquire(self, longest_socket: str = "control.sock") -> None:
        """Create or adopt the directory and take its lock; ConfigError if in use."""
        if len(str(self.path / longest_socket)) > _IPC_MAX:
            raise ConfigError(
                f"run_dir {self.path} is too long for ipc:// socket paths (107 bytes); "
                "choose a shorter --run-dir"
            )
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = self.path.stat()
        if info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
            raise ConfigError(
                f"run_dir {self.path} must be owned by you with mode 0700 "
                f"(is uid {info.st_uid}, mode {stat.S_IMODE(info.st_mode):o})"
            )
        lock = open(self.path / "supervisor.pid", "a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            other = lock.read().strip() or "?"
            lock.close()
            raise ConfigError(
                f"another supervisor (pid {other}) is running on {self.path}; "
                "stop it or choose another --run-dir"
            ) from None
        self._lock = lock
        self._clean()
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()

    def _clean(self) -> None:
        """A dead supervisor's sockets and configs would confuse the new children."""
        for entry in self.path.iterdir():
            if (
                entry.suffix in (".sock", ".json", ".tmp") and entry.is_file()
            ) or entry.is_socket():
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()

    def release(self) -> None:
        self._clean()
        if self._lock:
            self._lock.close()
            self._lock = None
