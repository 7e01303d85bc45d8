"""Where accepted frames go: one small interface, two sinks, one validation path before both.

The receiver validates a Socket.IO event (receiver/guard.py) and hands the
frames to a sink; the sink returns once they are stored, and only then is
the event acked. ``--sink wav:DIR`` (the default, and the supervisor's
embedded receiver) writes WAV files in place (receiver/sink.py);
``--sink redis://HOST:PORT/DB`` appends to Redis Streams
(receiver/redis_sink.py, docs/redis.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from receiver.budget import DiskBudget
from receiver.sink import SinkLimits
from receiver.streams import Streams
from uplink_frame import Frame


class SinkDown(Exception):
    """The store is unreachable: the frames were not stored and must not be acked."""


class Sink(Protocol):
    counts: dict[str, int]

    async def start(self) -> None:
        """Ready to store, or ConfigError (one line) when the store cannot be reached."""

    async def write(self, frames: list[Frame]) -> None:
        """Store the frames (duplicates are counted, not stored twice) before returning.

        Raises Rejected for a frame refused for good, SinkDown when nothing
        could be stored now.
        """

    async def healthy(self) -> bool:
        """False while the store is known to be unreachable (new connections are refused)."""

    def age_out(self, now: float) -> None: ...

    def stats(self) -> dict[str, dict[str, Any]]:
        """Counts per stream id."""

    async def close(self) -> None: ...


@dataclass(frozen=True)
class SinkUrl:
    kind: Literal["wav", "redis"]
    target: str  # a directory, or the redis:// URL as given


def parse_sink(text: str) -> SinkUrl:
    """``wav:DIR`` or ``redis://HOST:PORT/DB``; ValueError with the accepted forms otherwise."""
    if text.startswith("wav:") and len(text) > 4:
        return SinkUrl("wav", text[4:])
    if text.startswith(("redis://", "rediss://", "unix://")):
        return SinkUrl("redis", text)
    raise ValueError(f"--sink {text!r}: expected wav:DIR or redis://HOST:PORT/DB")


class WavSink:
    """The embedded receiver's WAV files, behind the Sink interface."""

    def __init__(
        self, out_dir: Path, limits: SinkLimits, budget: DiskBudget, max_streams: int, idle_s: float
    ) -> None:
        self.streams = Streams(out_dir, limits, budget, max_streams, idle_s)
        self.counts = self.streams.counts

    async def start(self) -> None:
        return None

    async def write(self, frames: list[Frame]) -> None:
        for frame in frames:  # written when write returns: only then the ack
            self.streams.write(frame, time.monotonic())

    async def healthy(self) -> bool:
        return True

    def age_out(self, now: float) -> None:
        self.streams.age_out(now)

    def stats(self) -> dict[str, dict[str, Any]]:
        return self.streams.stats()

    async def close(self) -> None:
        self.streams.close()
