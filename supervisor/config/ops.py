"""What the operations keys need beyond their parsers: checks across keys, and their use.

Their parsers are in supervisor/config/parsers.py and their declarations in
supervisor/config/keys.py, with every other key.
"""

from __future__ import annotations

from typing import Any


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
