"""``--source pipe:-`` and ``pipe:PATH`` as the supervisor sees them (docs/audio.md).

It checks the input before any process starts, hands stdin to the first
capture process only, and holds a read end of a FIFO for the whole run: a
writer then never gets a broken pipe while a restarted capture reopens it.
"""

from __future__ import annotations

import contextlib
import os
import stat

from supervisor.config.options import Options
from uplink_runtime.errors import ConfigError


def pipe_arg(source: str) -> str | None:
    """``-`` or the path of a ``pipe:`` source; None for any other source."""
    kind, _, arg = source.partition(":")
    return arg if kind == "pipe" else None


def check_pipe(arg: str) -> None:
    """ConfigError (one line) if the input cannot be read as raw PCM."""
    if arg == "-":
        try:
            tty = os.isatty(0)
            os.fstat(0)
        except OSError:
            raise ConfigError("source = pipe:-: stdin is closed") from None
        if tty:
            raise ConfigError(
                "source = pipe:-: stdin is a terminal; pipe raw PCM into it, e.g. "
                "arecord -f S16_LE -r 48000 -c 2 | supervisor start --source pipe:- "
                "--input-rate 48000 --input-channels 2"
            )
        return
    try:
        mode = os.stat(arg).st_mode
    except OSError as exc:
        raise ConfigError(f"source = pipe:{arg}: {exc.strerror}") from None
    if not (stat.S_ISFIFO(mode) or stat.S_ISREG(mode)):
        raise ConfigError(f"source = pipe:{arg}: not a FIFO (mkfifo) nor a regular file")
    if not os.access(arg, os.R_OK):
        raise ConfigError(f"source = pipe:{arg}: not readable")


def hold_fifos(options: Options) -> list[int]:
    """A read end of every FIFO source, kept open until ``release``."""
    fds = []
    for _, source in options.stream_sources():
        arg = pipe_arg(source)
        if arg and arg != "-" and stat.S_ISFIFO(os.stat(arg).st_mode):
            fds.append(os.open(arg, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC))
    return fds


def release(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)
