"""`supervisor status|stop|restart`: a REQ to the running supervisor's control socket.

The run directory's lock tells first whether anyone is there, so a missing
supervisor is a clear message rather than a timeout. The supervisor's side
is a ROUTER: it answers each REQ by its identity (see supervisor.channels).
"""

from __future__ import annotations

import json
from typing import Any

import zmq

from supervisor.rundir import RunDir, is_locked
from uplink_runtime.errors import ConfigError

_TIMEOUT_MS = 5000


class ControlError(Exception):
    """No supervisor to talk to, or it did not answer."""


def request(run_dir: str, message: dict[str, Any]) -> dict[str, Any]:
    """Send one control request and return the decoded reply."""
    rd = RunDir(run_dir)
    if not is_locked(rd.path):
        raise ControlError(f"no supervisor running on {rd.path} (see --run-dir)")
    with zmq.Context() as ctx, ctx.socket(zmq.REQ) as sock:
        sock.linger = 0
        sock.connect(rd.endpoint("control.sock"))
        sock.send(json.dumps(message).encode())
        if not sock.poll(_TIMEOUT_MS):
            raise ControlError(f"supervisor on {rd.path} did not answer within {_TIMEOUT_MS} ms")
        reply: dict[str, Any] = json.loads(sock.recv())
    if "error" in reply:
        raise ConfigError(reply["error"])
    return reply


_COLUMNS = (
    ("name", "NAME", 10),
    ("pid", "PID", 8),
    ("state", "STATE", 9),
    ("uptime_s", "UPTIME", 8),
    ("restarts", "RESTARTS", 9),
    ("rss_mb", "RSS_MB", 7),
    ("frames_in", "IN", 8),
    ("frames_out", "OUT", 8),
    ("drops", "DROPS", 7),
    ("levels", "RMS/PEAK dBFS", 22),
    ("last_error", "LAST ERROR", 0),
)


def format_status(status: dict[str, Any]) -> str:
    """The human table of ``supervisor status``."""
    lines = [" ".join(f"{title:<{width}}" for _, title, width in _COLUMNS).rstrip()]
    for row in status["processes"]:
        cells = [f"{_cell(row.get(key)):<{width}}" for key, _, width in _COLUMNS]
        lines.append(" ".join(cells).rstrip())
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, dict):  # levels: "-23/-3", and any raised alarm
        alarms = "".join(f" {a.upper()}" for a in value["alarms"])
        return f"{value['rms_db']:.0f}/{value['peak_db']:.0f}{alarms}"
    return str(value)
