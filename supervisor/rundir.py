"""The private runtime directory: 0700, ours alone, one live supervisor at a time.

The lock is an ``flock`` on the directory itself, held on a descriptor kept
open for the supervisor's life: deleting ``supervisor.pid`` (a tmp cleaner)
does not let a second supervisor in. The directory is adopted only if it is
a real directory (not a link), owned by us with mode 0700, and holds nothing
but names this program makes; then only those names are ever deleted.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import stat
from pathlib import Path

from uplink_runtime.errors import ConfigError

_IPC_MAX = 107  # sun_path limit, less the terminating NUL
_STREAM = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"  # as config's stream ids
# every name the supervisor and its children create here (safefile temporaries included;
# status.json.tmp is what versions before safefile used)
OURS = re.compile(
    rf"supervisor\.pid|control\.sock|stats\.sock|status\.json|status\.json\.tmp|run-token"
    rf"|(receiver|sender-\d+|capture(-{_STREAM})?)\.json|capture(-{_STREAM})?(-fin)?\.sock"
    rf"|\.(status\.json|receiver\.json|sender-\d+\.json|capture(-{_STREAM})?\.json)\.[0-9a-f]+\.tmp"
)
PID_FILE = "supervisor.pid"


class RunDir:
    def __init__(self, path: str) -> None:
        self.path = Path(path).absolute()
        self._fd: int | None = None

    def endpoint(self, name: str) -> str:
        return f"ipc://{self.path / name}"

    def acquire(self, longest_socket: str = "control.sock") -> None:
        """Create or adopt the directory and take its lock; ConfigError if unsafe or in use."""
        if len(str(self.path / longest_socket)) > _IPC_MAX:
            raise ConfigError(
                f"run_dir {self.path} is too long for ipc:// socket paths (107 bytes); "
                "choose a shorter --run-dir"
            )
        fd = _open_dir(self.path)
        try:
            _check_owned(self.path, fd)
            _lock(self.path, fd)
            _check_contents(self.path)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._clean()
        _write_pid(fd)

    def remove(self, name: str) -> None:
        """Delete one file we made, by its exact name."""
        assert OURS.fullmatch(name), name
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=self._fd)

    def _clean(self, keep: str = PID_FILE) -> None:
        """A dead supervisor's sockets and configs would confuse the new children."""
        assert self._fd is not None
        for name in os.listdir(self._fd):
            if name != keep and OURS.fullmatch(name):
                self.remove(name)

    def release(self) -> None:
        if self._fd is not None:
            self._clean(keep="")
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None


def _open_dir(path: Path) -> int:
    try:
        path.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigError(f"run_dir {path}: cannot create it ({exc.strerror})") from None
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        what = "a symlink" if path.is_symlink() else f"not a directory ({exc.strerror})"
        raise ConfigError(f"run_dir {path} is {what}; give a directory of your own") from None


def _check_owned(path: Path, fd: int) -> None:
    info = os.fstat(fd)
    if info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
        raise ConfigError(
            f"run_dir {path} must be owned by you with mode 0700 "
            f"(is uid {info.st_uid}, mode {stat.S_IMODE(info.st_mode):o})"
        )


def _lock(path: Path, fd: int) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        other = read_pid(fd) or "?"
        raise ConfigError(
            f"another supervisor (pid {other}) is running on {path}; "
            "stop it or choose another --run-dir"
        ) from None


def _check_contents(path: Path) -> None:
    strangers = sorted(name for name in os.listdir(path) if not OURS.fullmatch(name))
    if strangers:
        more = f" and {len(strangers) - 3} more" if strangers[3:] else ""
        shown = ", ".join(repr(name[:64]) for name in strangers[:3]) + more
        raise ConfigError(
            f"run_dir {path} holds files audio-uplink did not make ({shown}); "
            "give an empty or new directory"
        )


def is_locked(path: str | Path) -> bool:
    """Whether a supervisor holds the directory's lock (False if there is no directory)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def read_pid(dir_fd: int) -> str | None:
    with contextlib.suppress(OSError, ValueError):
        fd = os.open(PID_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
        with os.fdopen(fd) as f:
            return f.read(32).strip() or None
    return None


def _write_pid(dir_fd: int) -> None:
    """For people and scripts; the lock is on the directory, not in this file."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(PID_FILE, dir_fd=dir_fd)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    with os.fdopen(os.open(PID_FILE, flags, 0o600, dir_fd=dir_fd), "w") as f:
        f.write(f"{os.getpid()}\n")
