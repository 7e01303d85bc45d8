"""What the supervisor accepts on its own sockets: every message validated, bounded, counted.

Any process of this user can write to ``stats.sock`` and ``control.sock``.
Nothing that arrives there may raise out of the main loop, grow the
supervisor's memory, or reach the report unless a process this supervisor
started sent it. Each refusal is counted under one reason (the report's
``rejected_messages``) and logged for the 1st, 101st, ... of its kind:

- ``heartbeat_malformed``: not one msgpack frame of at most 1 MiB with the
  heartbeat's fields, or a field of the wrong type or out of range;
- ``heartbeat_foreign``: a name, or a pid, this supervisor did not start, or
  a role that is not the one it started under that name (ignored: only the
  supervisor's own children reach the totals);
- ``control_malformed``: not one ZeroMQ REQ message of at most 4 KiB holding
  a JSON object with a known ``cmd`` (answered with an error when a REQ
  envelope allows it).
"""

from __future__ import annotations

import json
import logging
import math
from collections import deque
from collections.abc import Collection
from enum import StrEnum
from typing import Any

from supervisor.ops.stats import Stats
from uplink_runtime.child import decode_heartbeat
from uplink_runtime.histogram import MAX_BUCKET
from uplink_runtime.levels import FLOOR_DB, LEVEL_KINDS, Alarm
from uplink_runtime.roles import Role

logger = logging.getLogger(__name__)
MAX_CONTROL_BYTES = 4096
MAX_HEARTBEAT_BYTES = 1 << 20
COMMANDS = ("status", "stop", "restart", "scale")
_MAX_COUNTERS = 256
_MAX_COUNT = 1 << 62
_PIDS_PER_SLOT = 8  # a replaced pid's last heartbeats still count, as in Stats
_LOG_EVERY = 100
# info fields the supervisor reads, and the type each must have
_INFO_NUMBERS = ("rss_mb", "cpu_s")
_INFO_INTS = ("pending", "inflight", "next_seq", "reconnects")
_INFO_FLAGS = ("connected", "ended", "waiting")
_ALARMS = frozenset(a.value for a in Alarm)


class Refusal(StrEnum):
    HEARTBEAT_MALFORMED = "heartbeat_malformed"
    HEARTBEAT_FOREIGN = "heartbeat_foreign"
    CONTROL_MALFORMED = "control_malformed"


class BadRequest(ValueError):
    """A control request refused; the message is the reply's ``error``."""


class Intake:
    """Validates what arrives on stats.sock and control.sock; counts what it refuses."""

    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self.pids: dict[str, deque[int]] = {}
        self.roles: dict[str, Role] = {}

    def expect(self, name: str, role: Role, pid: int) -> None:
        """A child was spawned: its heartbeats are welcome."""
        self.pids.setdefault(name, deque(maxlen=_PIDS_PER_SLOT)).append(pid)
        self.roles[name] = role

    def forget(self, name: str) -> None:
        self.pids.pop(name, None)
        self.roles.pop(name, None)

    def heartbeat(self, parts: list[bytes]) -> dict[str, Any] | None:
        """The heartbeat if it is well formed and from one of ours, else None (counted)."""
        try:
            if len(parts) != 1 or len(parts[0]) > MAX_HEARTBEAT_BYTES:
                raise ValueError(f"{len(parts)} frame(s), {sum(map(len, parts))} bytes")
            msg = decode_heartbeat(parts[0])
            check_ranges(msg)
        except (ValueError, TypeError) as exc:
            self.refuse(Refusal.HEARTBEAT_MALFORMED, str(exc))
            return None
        if msg["pid"] not in self.pids.get(msg["name"], ()) or (
            msg["role"] is not self.roles.get(msg["name"])
        ):
            name, pid, role = msg["name"][:64], msg["pid"], msg["role"]
            self.refuse(Refusal.HEARTBEAT_FOREIGN, f"name {name!r} pid {pid} role {role}")
            return None
        return msg

    def request(self, parts: list[bytes]) -> dict[str, Any]:
        """A control request from a REQ envelope ``[b"", body]``; BadRequest if refused."""
        try:
            return parse_request(parts)
        except BadRequest as exc:
            self.refuse(Refusal.CONTROL_MALFORMED, str(exc))
            raise

    def refuse(self, reason: Refusal, detail: str) -> None:
        self.stats.rejected[reason] += 1
        n = self.stats.rejected[reason]
        if n % _LOG_EVERY == 1:
            logger.warning("supervisor: refused a message (%s, #%d): %s", reason, n, detail)


def parse_request(parts: list[bytes]) -> dict[str, Any]:
    if len(parts) != 2 or parts[0] != b"":
        raise BadRequest(f"expected one REQ message, got {len(parts)} frame(s)")
    body = parts[1]
    if len(body) > MAX_CONTROL_BYTES:
        raise BadRequest(f"request of {len(body)} bytes is over {MAX_CONTROL_BYTES}")
    try:
        request = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(request, dict) or request.get("cmd") not in COMMANDS:
        raise BadRequest(f"expected a JSON object with cmd one of {', '.join(COMMANDS)}")
    return request


def check_ranges(msg: dict[str, Any]) -> None:
    """Bounds on what the supervisor sums, stores and compares (decode_heartbeat did types)."""
    counters, hist, info = msg["counters"], msg["hist"], msg["info"]
    if len(counters) > _MAX_COUNTERS or len(info) > _MAX_COUNTERS:
        raise ValueError("too many counters or info fields")
    # min and max loop in C: a heartbeat comes every 250 ms from each child
    if counters and (max(map(len, counters)) > 64 or not _counts(counters.values())):
        raise ValueError("a counter's name or value is out of range")
    if hist and (min(hist) < 0 or max(hist) > MAX_BUCKET or not _counts(hist.values())):
        raise ValueError(f"a histogram bucket outside 0..{MAX_BUCKET}, or a negative count")
    if len(msg["name"]) > 64:
        raise ValueError("name longer than 64 characters")
    _check_info(info)


def _counts(values: Collection[int]) -> bool:
    return min(values) >= 0 and max(values) < _MAX_COUNT


def _check_info(info: dict[str, Any]) -> None:
    for key in _INFO_NUMBERS:
        value = info.get(key, 0.0)
        if not math.isfinite(value) or not 0 <= value < 1e12:
            raise ValueError(f"info.{key} = {value!r} is out of range")
    for key in _INFO_INTS:
        value = info.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < _MAX_COUNT:
            raise ValueError(f"info.{key} must be a non-negative integer")
    for key in _INFO_FLAGS:
        if not isinstance(info.get(key, False), bool):
            raise ValueError(f"info.{key} must be true or false")
    _check_levels(info)


def _check_levels(info: dict[str, Any]) -> None:
    """A capture's levels (dBFS), raised alarms and stream id (capture_proc/levels.py)."""
    for key in LEVEL_KINDS:
        value = info.get(key, FLOOR_DB)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValueError(f"info.{key} must be a number")
        if not FLOOR_DB <= value <= 0:  # also refuses NaN
            raise ValueError(f"info.{key} = {value!r} is outside {FLOOR_DB:g}..0 dBFS")
    alarms = info.get("alarms", [])
    if not isinstance(alarms, list) or len(alarms) > len(_ALARMS):
        raise ValueError("info.alarms must be a short list")
    if not all(isinstance(a, str) and a in _ALARMS for a in alarms):
        raise ValueError(f"info.alarms may hold only {', '.join(sorted(_ALARMS))}")
    stream = info.get("stream", "")
    if not isinstance(stream, str) or len(stream) > 64:
        raise ValueError("info.stream must be a string of at most 64 characters")
