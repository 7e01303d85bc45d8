"""Opening files an operator names without following a planted link or hanging on a FIFO.

Writes go to a fresh temporary name in the target's directory, created with
``O_EXCL | O_NOFOLLOW`` (a link planted at any name we might use is never
followed), then renamed over the target (a rename replaces a link, it does
not write through it). Reads open with ``O_NONBLOCK`` so a FIFO or a device
cannot block the open, then insist on a regular file of bounded size.
Imported by children: standard library only.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import BinaryIO


class NotRegularFile(OSError):
    """The path is a FIFO, a device, a directory or a socket; or it is too large."""


def write_atomic(path: str | os.PathLike[str], data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data``; readers see the old file or the new one, whole."""
    target = Path(path)
    # os.urandom, not secrets: secrets loads hashlib and with it 5 MB of OpenSSL into every child
    tmp = target.with_name(f".{target.name}.{os.urandom(6).hex()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a regular file for reading; NotRegularFile for anything else."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(0, "not a regular file (a FIFO, device or directory?)")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """The whole of a regular file of at most ``limit`` bytes."""
    with open_regular(path) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise NotRegularFile(0, f"larger than {limit} bytes")
    return data
