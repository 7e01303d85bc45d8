"""What every supervised child shares: its identity, how it dies with the
supervisor, and the heartbeat it reports its counters on.

Imported by capture_proc, sender_proc and receiver; keeps to the standard
library, pyzmq and msgpack so a child starts fast.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import functools
import gc
import json
import logging
import os
import resource
import signal
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import msgpack
import zmq

from uplink_runtime import logfmt
from uplink_runtime.roles import Role
from uplink_runtime.safefile import write_atomic

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_CRASH = 1
EXIT_CONFIG = 2
EXIT_ORPHANED = 3
_PR_SET_PDEATHSIG = 1
_HEARTBEAT_MAX_BYTES = 1 << 20
_HEARTBEAT_HWM = 16  # heartbeats are snapshots: an old one is worthless


@dataclass(frozen=True)
class ChildSpec:
    """Who a child is and how it reaches its supervisor."""

    name: str
    role: Role
    stats_endpoint: str
    parent_pid: int
    heartbeat_ms: int = 250
    log_format: str = "text"

    def __post_init__(self) -> None:  # from a config file, or a test: text
        object.__setattr__(self, "role", Role(self.role))


C = TypeVar("C")


def save_config(config: Any, path: Path) -> None:
    """Write a child's frozen config where only its owner can read it (never through a link)."""
    write_atomic(path, json.dumps(dataclasses.asdict(config)).encode())


def load_config(cls: type[C], path: str) -> C:
    """Rebuild a child's config dataclass; its ``child`` field is a ChildSpec."""
    with open(path) as f:
        raw = json.load(f)
    raw["child"] = ChildSpec(**raw["child"])
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if isinstance(raw.get(field.name), list):
            raw[field.name] = tuple(raw[field.name])
    return cls(**raw)


def die_with_parent(parent_pid: int) -> None:
    """Ask the kernel for SIGKILL when the supervisor dies; exit if it already has.

    The getppid check closes the race between fork and prctl: a parent that
    died before prctl ran would otherwise leave this child orphaned forever.
    """
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:
        logger.error("child %d: supervisor %d is gone, exiting", os.getpid(), parent_pid)
        sys.exit(EXIT_ORPHANED)


def start_child(spec: ChildSpec) -> None:
    """What every child does first: log with its name, die with the supervisor."""
    setup_logging(spec.name, spec.log_format)
    die_with_parent(spec.parent_pid)
    # what is imported by now lives as long as the process: no full collection need walk
    # it again (one cost a sender ~6 ms of CPU, 130 ms of wall time under a 5 % quota)
    gc.freeze()
    if spec.role in os.environ.get("AUDIO_UPLINK_TEST_CRASH", "").split(","):
        print(f"{spec.name}: crashing at start (AUDIO_UPLINK_TEST_CRASH)", file=sys.stderr)
        sys.exit(EXIT_CRASH)


def _test_leak_bytes(role: str, interval_s: float) -> int:
    """AUDIO_UPLINK_TEST_LEAK=ROLE:MB_PER_S makes a child leak on purpose (tests only)."""
    spec = os.environ.get("AUDIO_UPLINK_TEST_LEAK", "")
    leak_role, _, rate = spec.partition(":")
    if leak_role != role or not rate:
        return 0
    return int(float(rate) * interval_s * (1 << 20))


def setup_logging(name: str, fmt: str = "text") -> None:
    logfmt.setup(name, fmt)


@functools.cache
def _own_statm() -> int:
    return os.open("/proc/self/statm", os.O_RDONLY | os.O_CLOEXEC)


def rss_mb(pid: int | None = None) -> float:
    """Resident set size from /proc, in MiB (0.0 if the process is gone).

    Our own statm stays open: out of file descriptors (a connection flood) is
    exactly when the memory watchdog must still see this process.
    """
    try:
        if pid is None:
            raw = os.pread(_own_statm(), 256, 0).decode()
        else:
            with open(f"/proc/{pid}/statm") as f:
                raw = f.read()
        pages = int(raw.split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / (1 << 20)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class StopFlag:
    """SIGTERM/SIGINT only record that a stop was asked; the main loop acts."""

    def __init__(self) -> None:
        self.requested = False
        self._callbacks: list[Callable[[], None]] = []

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)

    def on_stop(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)

    def _handle(self, signum: int, frame: object) -> None:
        self.requested = True
        for callback in self._callbacks:
            callback()


class Heartbeat:
    """PUSHes the child's counters to the supervisor.

    Counters are cumulative for the life of this process; the supervisor
    keeps the newest snapshot per pid and sums across restarts.
    """

    def __init__(self, ctx: zmq.Context[Any], spec: ChildSpec) -> None:
        self.spec = spec
        self.interval_s = spec.heartbeat_ms / 1000
        self.next_due = 0.0
        self._sock = ctx.socket(zmq.PUSH)
        self._sock.linger = 500  # the final heartbeat must get out after a clean stop
        self._sock.sndhwm = _HEARTBEAT_HWM
        self._sock.connect(spec.stats_endpoint)
        self._leak_bytes = _test_leak_bytes(spec.role, self.interval_s)
        self._leaked: list[bytes] = []

    def due(self, now: float) -> bool:
        return now >= self.next_due

    def send(
        self,
        counters: Mapping[str, int],
        hist: Mapping[int, int] | None = None,
        info: Mapping[str, Any] | None = None,
        final: bool = False,
    ) -> None:
        now = time.time()
        self.next_due = time.monotonic() + self.interval_s
        if self._leak_bytes:
            self._leaked.append(b"\x01" * self._leak_bytes)  # written, so resident
        message = {
            "name": self.spec.name,
            "role": self.spec.role.value,
            "pid": os.getpid(),
            "t": now,
            "final": final,
            "counters": dict(counters),
            "hist": dict(hist or {}),
            "info": {"rss_mb": rss_mb(), "cpu_s": cpu_seconds(), **(info or {})},
        }
        # supervisor busy or gone: the next heartbeat carries the same totals
        with contextlib.suppress(zmq.Again):
            self._sock.send(msgpack.packb(message, use_bin_type=True), zmq.NOBLOCK)

    def close(self) -> None:
        self._sock.close()


_FIELDS = {"name", "role", "pid", "counters", "hist", "info"}
_ROLES = tuple(Role)
_STR, _INT, _INT_KEYS = frozenset({str}), frozenset({int}), frozenset({int, bool})


def decode_heartbeat(raw: bytes) -> dict[str, Any]:
    """Supervisor side: parse a heartbeat, ValueError on anything malformed."""
    if len(raw) > _HEARTBEAT_MAX_BYTES:
        raise ValueError(f"heartbeat of {len(raw)} bytes is too large")
    try:
        msg = msgpack.unpackb(raw, raw=False, strict_map_key=False)
    except Exception as exc:
        raise ValueError(f"heartbeat is not msgpack: {type(exc).__name__}") from None
    if not isinstance(msg, dict) or not set(msg) >= _FIELDS:
        raise ValueError("heartbeat lacks name/role/pid/counters/hist/info")
    _check_shape(msg)
    return msg


def _check_shape(msg: dict[str, Any]) -> None:
    """Types the supervisor sums and compares; one bad heartbeat must not poison the totals."""
    if not isinstance(msg["name"], str) or not _is_int(msg["pid"]):
        raise ValueError("heartbeat name/pid of the wrong type")
    if msg["role"] not in _ROLES:
        raise ValueError(f"heartbeat role must be one of {', '.join(_ROLES)}")
    msg["role"] = Role(msg["role"])
    for key, keys_are, name in (("counters", _STR, "str"), ("hist", _INT_KEYS, "int")):
        if not _maps_to_int(msg[key], keys_are):
            raise ValueError(f"heartbeat {key} must map {name} to int")
    info = msg["info"]
    if not isinstance(info, dict) or not all(
        isinstance(info.get(k, 0.0), int | float) for k in ("rss_mb", "cpu_s")
    ):
        raise ValueError("heartbeat info must be a map with numeric rss_mb/cpu_s")


def _maps_to_int(table: object, key_types: frozenset[type]) -> bool:
    """A dict from ``key_types`` to int (never bool), in two C loops instead of a Python one.

    msgpack makes no int or str subclass but bool, so these exact types say what
    isinstance would: a hist key may be a bool (isinstance(True, int)), a value not.
    """
    return (
        isinstance(table, dict)
        and set(map(type, table)) <= key_types
        and set(map(type, table.values())) <= _INT
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
