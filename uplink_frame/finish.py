"""The back-channel: senders tell capture which frames they took and which are finished.

Capture binds it next to its data socket (``finish_endpoint``); each sender
connects one DEALER per capture and sends a small msgpack map about every
100 ms, even with nothing to say (the map then is a liveness beat):

    {"took": [[lo, hi], ...],             seqs pulled from the pipe (inclusive ranges)
     "fin": [[fate, lo, hi], ...],        seqs whose fate is settled, by fate
     "bye": bool}                         the sender leaves: what it did not finish is capture's

docs/delivery.md says why this is safe. ``decode`` is the single validator:
every bound is checked before capture looks at a seq.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgpack

from uplink_frame.format import MAX_SEQ

MAX_BYTES = 1 << 16
MAX_RANGES = 1024
BEAT_S = 0.1  # a sender's report period, also its liveness beat
LEASE_S = 0.3  # silent this long (3 beats): capture treats the sender as gone


class Fate(enum.Enum):
    """How a frame left a sender for good; the value is its wire code."""

    ACKED = 0
    WRITTEN = 1  # acks off: handed to the link, never confirmed
    REJECTED = 2
    STALE = 3
    DISCONNECTED = 4
    BACKLOG = 5
    ACK_TIMEOUT = 6


class FinishError(ValueError):
    """A back-channel message is malformed; the text says why."""


@dataclass
class Report:
    took: list[tuple[int, int]] = field(default_factory=list)
    fin: list[tuple[Fate, int, int]] = field(default_factory=list)
    bye: bool = False


def ranges(seqs: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted seqs folded into inclusive (lo, hi) runs."""
    runs: list[tuple[int, int]] = []
    for seq in sorted(set(seqs)):
        if runs and seq == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], seq)
        else:
            runs.append((seq, seq))
    return runs


def encode(report: Report) -> bytes:
    body = {
        "took": [list(r) for r in report.took],
        "fin": [[fate.value, lo, hi] for fate, lo, hi in report.fin],
        "bye": report.bye,
    }
    packed: bytes = msgpack.packb(body, use_bin_type=True)
    return packed


def decode(raw: bytes) -> Report:
    """Parse and validate; FinishError on anything else."""
    if len(raw) > MAX_BYTES:
        raise FinishError(f"{len(raw)} bytes, more than {MAX_BYTES}")
    try:
        obj = msgpack.unpackb(raw, raw=False, max_array_len=MAX_RANGES, max_map_len=3)
    except Exception as exc:  # msgpack raises a zoo of types on garbage
        raise FinishError(f"not msgpack: {type(exc).__name__}") from None
    if not isinstance(obj, dict) or set(obj) != {"took", "fin", "bye"}:
        raise FinishError("expected a map of took, fin and bye")
    if not isinstance(obj["bye"], bool):
        raise FinishError("bye must be true or false")
    took = [_range(r, 2) for r in _list(obj["took"])]
    fin = [(_fate(r), *_range(r[1:], 2)) for r in (_list_of(r, 3) for r in _list(obj["fin"]))]
    return Report([(lo, hi) for lo, hi in took], [(f, lo, hi) for f, lo, hi in fin], obj["bye"])


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list) or len(value) > MAX_RANGES:
        raise FinishError(f"ranges must be a list of at most {MAX_RANGES}")
    return value


def _list_of(value: Any, n: int) -> list[Any]:
    if not isinstance(value, list) or len(value) != n:
        raise FinishError(f"a range must be a list of {n}")
    return value


def _range(value: Any, n: int) -> tuple[int, int]:
    lo, hi = _list_of(value, n)
    for seq in (lo, hi):
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq <= MAX_SEQ:
            raise FinishError(f"a seq must be an integer in 0..{MAX_SEQ}")
    if lo > hi:
        raise FinishError(f"range {lo}..{hi} runs backwards")
    return lo, hi


def _fate(value: list[Any]) -> Fate:
    try:
        return Fate(value[0])
    except (ValueError, TypeError):
        raise FinishError(f"unknown fate {str(value[0])[:16]!r}") from None


def finish_endpoint(data_endpoint: str) -> str:
    """The back-channel beside a capture's data endpoint.

    ipc://.../capture-S.sock -> ipc://.../capture-S-fin.sock; tcp://HOST:P -> tcp://HOST:P+1
    (so a tcp capture_bind needs two ports, P and P+1).
    """
    if data_endpoint.startswith("ipc://"):
        return data_endpoint.removesuffix(".sock") + "-fin.sock"
    host, _, port = data_endpoint.rpartition(":")
    return f"{host}:{int(port) + 1}"
