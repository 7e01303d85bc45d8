"""The value parsers of the config keys: each returns the value, or raises what is accepted.

TOML values must already have their type (``senders = "3"`` is refused);
a flag's text is converted before it gets here (supervisor/config/options.py).
"""

from __future__ import annotations

import os
import re
import reprlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from uplink_runtime.safefile import open_regular

Parser = Callable[[Any], Any]

_SHORT = reprlib.Repr()  # keyword arguments only from Python 3.12
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 3, 60, 60
_SHORT.maxlist = _SHORT.maxdict = _SHORT.maxtuple = 6


def shown(value: Any) -> str:
    """A value as the user wrote it, shortened: an error line stays one short line."""
    return _SHORT.repr(value)


def integer(lo: int, hi: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise ValueError(f"an integer from {lo} to {hi}")
        return value

    return parse


def number(lo: float, hi: float) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        given = float(value) if isinstance(value, int | float) else None
        if isinstance(value, bool) or given is None or not lo <= given <= hi:
            raise ValueError(f"a number from {lo:g} to {hi:g}")
        return given

    return parse


def text(pattern: str, accepted: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if not isinstance(value, str) or not re.fullmatch(pattern, value):
            raise ValueError(accepted)
        return value

    return parse


def choice(*choices: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in choices:
            raise ValueError(" or ".join(choices))
        return str(value)

    return parse


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError("true or false")


def url(value: Any) -> str:
    parsed = urlparse(str(value))
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError("an http:// or https:// URL of a Socket.IO server")
    return str(value)


PATH = text(r".{1,4096}", "a path of 1-4096 characters")  # PATH_MAX
SOURCE = text(
    r"tone(:\d+)?|file:.+|mic(:.+)?|pipe:.+",
    "tone[:HZ], file:PATH.wav, mic[:DEVICE], pipe:- or pipe:PATH",
)
STREAM_ID = text(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", "1-64 characters of [A-Za-z0-9_.-]")


def streams(most: int) -> Callable[[Any], tuple[tuple[str, str], ...]]:
    """``[[streams]]`` tables: each exactly ``id`` and ``source``, ids unique."""

    def parse(value: Any) -> tuple[tuple[str, str], ...]:
        if not isinstance(value, list) or not 1 <= len(value) <= most:
            raise ValueError(f"1 to {most} [[streams]] tables with id and source")
        found = []
        for table in value:
            if not isinstance(table, dict) or set(table) != {"id", "source"}:
                keys = sorted(table) if isinstance(table, dict) else table
                raise ValueError(f"tables with exactly id and source (got {shown(keys)})")
            try:
                found.append((STREAM_ID(table["id"]), SOURCE(table["source"])))
            except ValueError as exc:
                raise ValueError(f"id and source in {shown(table)}: {exc}") from None
        ids = [sid for sid, _ in found]
        if len(set(ids)) != len(ids):
            raise ValueError(f"unique stream ids (got {shown(ids)})")
        return tuple(found)

    return parse


def readable_file(value: Any) -> str:
    """A path to a readable, non-empty regular file (checked now, not at first use).

    Opened without blocking and checked to be a regular file: a FIFO here
    would hang ``check-config`` and ``start`` forever.
    """
    accepted = "a path to a readable, non-empty file"
    if not isinstance(value, str) or not value:
        raise ValueError(accepted)
    try:
        with open_regular(value) as f:
            if not f.read(1):
                raise ValueError(f"{accepted} (it is empty)")
    except OSError as exc:
        raise ValueError(f"{accepted} ({exc.strerror})") from None
    return value


_HOST_PORT = re.compile(r"(?:(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):)?(?P<port>\d{1,5})")


def host_port(value: Any) -> str:
    """``PORT`` or ``HOST:PORT``; a bare port means 127.0.0.1, never every interface."""
    match = _HOST_PORT.fullmatch(str(value)) if isinstance(value, str | int) else None
    if match is None or not 1 <= int(match["port"]) <= 65535:
        raise ValueError("PORT or HOST:PORT with a port from 1 to 65535")
    host = (match["host"] or "127.0.0.1").strip("[]")
    return f"{host}:{int(match['port'])}"


def tcp_endpoint(value: Any) -> str:
    match = re.fullmatch(r"tcp://(\*|[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})", str(value))
    if match is None or not 1 <= int(match[2]) <= 65535:
        raise ValueError("tcp://HOST:PORT (HOST an address, a name or *)")
    return str(value)


def directory(value: Any) -> str:
    if not isinstance(value, str) or not os.path.isdir(value):
        raise ValueError("an existing directory (make one with: supervisor curve-keys DIR)")
    return value
