"""Parsers for the operations and security keys (auth, TLS, limits, metrics, logs).

Kept apart from config.py so the pipeline keys and these evolve separately;
config.py merges ``OPS_PARSERS`` into its ``PARSERS``. Each parser raises
ValueError with what is accepted, as the pipeline parsers do.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from uplink_frame import MAX_MESSAGE_BYTES
from uplink_runtime.safefile import open_regular

MIN_MESSAGE_BYTES = 4096
_HOST_PORT = re.compile(r"(?:(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):)?(?P<port>\d{1,5})")


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


def host_port(value: Any) -> str:
    """``PORT`` or ``HOST:PORT``; a bare port means 127.0.0.1, never every interface."""
    match = _HOST_PORT.fullmatch(str(value)) if isinstance(value, str | int) else None
    if match is None or not 1 <= int(match["port"]) <= 65535:
        raise ValueError("PORT or HOST:PORT with a port from 1 to 65535")
    host = (match["host"] or "127.0.0.1").strip("[]")
    return f"{host}:{int(match['port'])}"


def _tcp_endpoint(value: Any) -> str:
    match = re.fullmatch(r"tcp://(\*|[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})", str(value))
    if match is None or not 1 <= int(match[2]) <= 65535:
        raise ValueError("tcp://HOST:PORT (HOST an address, a name or *)")
    return str(value)


def _directory(value: Any) -> str:
    if not isinstance(value, str) or not os.path.isdir(value):
        raise ValueError("an existing directory (make one with: supervisor curve-keys DIR)")
    return value


def connect_address(endpoint: str) -> str:
    """Where a local sender connects to an endpoint capture binds (a wildcard means here)."""
    for wildcard in ("tcp://*:", "tcp://0.0.0.0:"):
        if endpoint.startswith(wildcard):
            return "tcp://127.0.0.1:" + endpoint.removeprefix(wildcard)
    return endpoint


def combination_problem(options: Any) -> str | None:
    """Checks across keys; the one line the user sees, or None."""
    if options.capture_bind is None:
        return None
    if options.curve_dir is None:
        return (
            f"capture_bind = {options.capture_bind!r}: ZeroMQ over tcp:// carries the audio "
            "unauthenticated and in clear; it needs CURVE keys: set curve_dir "
            "(make them with: supervisor curve-keys DIR)"
        )
    from uplink_runtime.curve import missing_files

    if missing := missing_files(options.curve_dir):
        return f"curve_dir = {options.curve_dir!r}: missing {', '.join(missing)}"
    if len(options.stream_sources()) > 1:
        return "capture_bind: one stream only; several [[streams]] use ipc:// in run_dir"
    return None


def split_host_port(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host, int(port)


def _choice(*choices: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in choices:
            raise ValueError(" or ".join(choices))
        return str(value)

    return parse


def _message_bytes(value: Any) -> int:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not MIN_MESSAGE_BYTES <= value <= MAX_MESSAGE_BYTES
    ):
        raise ValueError(f"an integer from {MIN_MESSAGE_BYTES} to {MAX_MESSAGE_BYTES}")
    return value


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError("true or false")


OPS_PARSERS: dict[str, Callable[[Any], Any]] = {
    "auth_token_file": readable_file,
    "ca_file": readable_file,
    "tls_insecure": _bool,
    "max_message_bytes": _message_bytes,
    "metrics": host_port,
    "log_format": _choice("text", "json"),
    "capture_bind": _tcp_endpoint,
    "curve_dir": _directory,
}
# keys that are switches on the command line (--tls-insecure), not --key VALUE
OPS_SWITCHES = ("tls_insecure",)
