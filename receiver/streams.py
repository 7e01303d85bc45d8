"""Every open stream epoch of one receiver: bounded in number, aged out when idle.

A sink is opened by the first frame of a ``(stream, epoch)`` and closed when
no frame came for ``idle_stream_s``, so junk stream ids cannot hold the
``max_streams`` slots for ever. A frame for a new stream while every slot is
busy is refused, counted (``rejected_streams``) and logged once per 100.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from receiver.budget import DiskBudget
from receiver.guard import Rejected
from receiver.sink import SinkLimits, StreamSink
from uplink_frame import Frame

logger = logging.getLogger(__name__)
_LOG_EVERY = 100
_CLOSED_NAMES = 256  # closed streams whose counts stay listed; older ones are summed
RETIRED = "+retired"  # not a valid stream id: the sum of the streams no longer listed
_SEQS = ("first_seq", "next_seq")
Key = tuple[str, int]  # (stream, epoch)


class Streams:
    def __init__(
        self,
        out_dir: Path,
        limits: SinkLimits,
        budget: DiskBudget,
        max_streams: int,
        idle_stream_s: float,
        *,
        rewrite: bool = False,  # receiver/sink.py: the Redis consumer's mode
    ) -> None:
        self.out_dir, self.limits, self.budget = out_dir, limits, budget
        self.rewrite = rewrite
        self.max_streams, self.idle_stream_s = max_streams, idle_stream_s
        self.sinks: dict[Key, StreamSink] = {}
        self.closed: dict[str, dict[str, int]] = {}  # counts of streams' closed sinks
        self.counts = dict.fromkeys(
            ("rejected_streams", "rejected_disk", "write_errors", "streams_aged_out"), 0
        )

    def write(self, frame: Frame, now: float) -> None:
        """Into its sink (opened if need be); Rejected when refused, after it is counted."""
        key = (frame.stream, frame.epoch)
        sink = self.sinks.get(key) or self._open(frame, now)
        refused = self.budget.refused
        try:
            sink.write(frame, now)
        except OSError as exc:  # disk full, I/O error: refused, so the sender knows
            self.counts["write_errors"] += 1
            self._warn("write_errors", "cannot write %s: %s", frame.stream, exc)
            raise Rejected("write", f"cannot write stream {frame.stream}: {exc.strerror}") from None
        finally:
            self.counts["rejected_disk"] += self.budget.refused - refused

    def _open(self, frame: Frame, now: float) -> StreamSink:
        if len(self.sinks) >= self.max_streams:
            self.counts["rejected_streams"] += 1
            message = "new stream %s refused: %d streams open"
            self._warn("rejected_streams", message, frame.stream, self.max_streams)
            raise Rejected("streams", f"more than {self.max_streams} streams")
        sink = StreamSink(self.out_dir, frame, self.limits, self.budget, self.rewrite)
        sink.last_write = now
        self.sinks[(frame.stream, frame.epoch)] = sink
        return sink

    def _warn(self, counter: str, message: str, *args: object) -> None:
        """Once per 100 of a kind: a flood of one error is not a flood of log lines."""
        n = self.counts[counter]
        if n % _LOG_EVERY == 1:
            logger.warning("receiver %d: %s (#%d)", os.getpid(), message % args, n)

    def age_out(self, now: float) -> None:
        """Close the sinks that have been idle for ``idle_stream_s``."""
        for key, sink in list(self.sinks.items()):
            if now - sink.last_write >= self.idle_stream_s:
                self._close(key)
                self.counts["streams_aged_out"] += 1

    def _close(self, key: Key) -> None:
        sink = self.sinks.pop(key)
        sink.close()
        _add(self.closed.setdefault(key[0], {}), sink.stats())
        if all(k[0] != key[0] for k in self.sinks):
            self.budget.forget(key[0])
        while len(self.closed) > _CLOSED_NAMES:
            oldest = next(name for name in self.closed if name != RETIRED)
            _add(self.closed.setdefault(RETIRED, {}), self.closed.pop(oldest), seqs=False)

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per stream id, summed over its epochs; seqs are those of its newest sink."""
        out: dict[str, dict[str, Any]] = {n: dict(c) for n, c in self.closed.items()}
        for (name, _), sink in self.sinks.items():
            _add(out.setdefault(name, {}), sink.stats())
        return out

    def close(self) -> None:
        for key in list(self.sinks):
            self._close(key)


def _add(row: dict[str, Any], stats: dict[str, Any], seqs: bool = True) -> None:
    """Sum counts into ``row``; the seqs are the newest sink's (the first one's first_seq)."""
    for key, value in stats.items():
        if key not in _SEQS:
            row[key] = row.get(key, 0) + (value or 0)
        elif seqs and (key == "next_seq" or row.get(key) is None):
            row[key] = value
