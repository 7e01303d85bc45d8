"""The Redis consumer: every ``audio:{<stream>}`` key into WAV files, acked only once written.

It reads with a consumer group (``XREADGROUP``), writes each entry through
the embedded receiver's own WAV path (receiver/streams.py, sink.py: one
file per stream, each seq at its own place, whatever the order the
receivers appended in), and only then ``XACK``s the entries. Killed and
started again under the same consumer name, it first reads its own pending
entries (id ``0``) and writes them again in place (the sink's ``rewrite``
mode): one written before the kill is overwritten by the same bytes, one
that was not fills its place, so the file has no gap and no frame twice.
The same happens after a lost Redis connection. New stream keys are found
by ``SCAN`` every ``scan_s``; an entry that is not a valid frame is counted
(``bad_entries``), acked and skipped, so it cannot stop the consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError, ResponseError

from receiver.budget import DiskBudget
from receiver.guard import Rejected
from receiver.redis_sink import connect, from_fields, stream_of, where
from receiver.sink import SinkLimits
from receiver.sinks import SinkDown
from receiver.streams import Streams
from uplink_frame import MAX_MESSAGE_BYTES, FrameError
from uplink_frame.ratelog import RateLog

logger = logging.getLogger(__name__)
PENDING, NEW = "0", ">"  # XREADGROUP ids: this consumer's unacked entries, then new ones
_LAGS = 4096  # recent lags kept for stats.json's lag_ms_p99


@dataclass(frozen=True)
class ConsumerConfig:
    url: str
    out_dir: str
    group: str = "wav"
    consumer: str = "wav"  # the same name after a restart: its pending entries are its own
    batch: int = 256  # entries read at once per stream
    block_ms: int = 200
    scan_s: float = 0.25  # a new stream key waits at most this (plus a read) to be found
    max_streams: int = 64
    idle_stream_s: float = 60.0
    max_message_bytes: int = MAX_MESSAGE_BYTES
    max_stream_bytes: int = 64 << 30
    max_disk_bytes: int = 256 << 30


class Consumer:
    def __init__(self, config: ConsumerConfig) -> None:
        self.config = config
        self.out_dir = Path(config.out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.redis = connect(config.url)
        budget = DiskBudget(config.max_stream_bytes, config.max_disk_bytes)
        limits, idle_s, most = SinkLimits(), config.idle_stream_s, config.max_streams
        self.streams = Streams(self.out_dir, limits, budget, most, idle_s, rewrite=True)
        self.cursor: dict[str, str] = {}  # stream key -> PENDING or NEW
        kinds = ("entries", "acked", "bad_entries", "refused_entries", "redis_errors", "lag_ms_max")
        self.counts = dict.fromkeys(kinds, 0)
        self._rate = RateLog(logger)
        self._scanned = 0.0
        self._lags: deque[int] = deque(maxlen=_LAGS)

    async def start(self) -> None:
        try:
            await self.redis.ping()
        except (RedisError, OSError) as exc:
            raise SinkDown(f"cannot reach Redis at {where(self.config.url)}: {exc}") from None

    async def step(self) -> None:
        """Find new keys now and then, read one batch, write it, ack it."""
        try:
            if time.monotonic() - self._scanned >= self.config.scan_s:
                await self._discover()
            if not self.cursor:
                await asyncio.sleep(self.config.block_ms / 1000)
                return
            reply: Any = await self.redis.xreadgroup(
                self.config.group,
                self.config.consumer,
                dict(self.cursor),  # type: ignore[arg-type]
                count=self.config.batch,
                block=self.config.block_ms,
            )
            for key, entries in reply or []:
                await self._take(key.decode(), entries)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self.cursor.clear()  # a key expired (idle past its retention): look again
            self._scanned = 0.0
        except (RedisError, OSError) as exc:
            self.counts["redis_errors"] += 1
            self._rate.hit("redis", "consumer %d: Redis: %s", os.getpid(), exc)
            self.cursor = dict.fromkeys(self.cursor, PENDING)  # unacked ones come again
            await asyncio.sleep(self.config.block_ms / 1000)

    async def _discover(self) -> None:
        self._scanned = time.monotonic()
        async for raw in self.redis.scan_iter(match="audio:{*}", count=1000, _type="stream"):
            key = raw.decode()
            if key in self.cursor or stream_of(key) is None:
                continue
            if len(self.cursor) >= self.config.max_streams:
                self._rate.hit("streams", "consumer %d: %s left: too many", os.getpid(), key)
                continue
            with contextlib.suppress(ResponseError):  # BUSYGROUP: it exists already
                await self.redis.xgroup_create(key, self.config.group, id="0")
            self.cursor[key] = PENDING

    async def _take(self, key: str, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> None:
        if not entries:
            self.cursor[key] = NEW  # no pending entries left: on to new ones
            return
        stream = stream_of(key)
        assert stream is not None
        now = time.time()
        for _, fields in entries:
            self._write(stream, fields, now)
        await self.redis.xack(key, self.config.group, *(entry_id for entry_id, _ in entries))
        self.counts["acked"] += len(entries)

    def _write(self, stream: str, fields: dict[bytes, bytes] | None, now: float) -> None:
        self.counts["entries"] += 1
        try:
            frame = from_fields(stream, fields or {}, self.config.max_message_bytes)
            self.streams.write(frame, time.monotonic())
        except FrameError as exc:  # not a frame (or trimmed away while pending): acked, skipped
            self.counts["bad_entries"] += 1
            self._rate.hit("bad", "consumer %d: bad entry in %s: %s", os.getpid(), stream, exc)
            return
        except Rejected as exc:  # too many streams, the disk budget: counted and skipped
            self.counts["refused_entries"] += 1
            self._rate.hit("refused", "consumer %d: %s: %s", os.getpid(), stream, exc)
            return
        lag_ms = int((now - frame.t_ready) * 1000)
        self.counts["lag_ms_max"] = max(self.counts["lag_ms_max"], lag_ms)
        self._lags.append(lag_ms)

    def stats(self) -> dict[str, Any]:
        lags = sorted(self._lags)
        p99 = lags[int(len(lags) * 0.99)] if lags else 0  # of the last _LAGS entries written
        counts = {**self.counts, "lag_ms_p99": p99, **self.streams.counts}
        return {**counts, "streams": self.streams.stats()}

    async def close(self) -> None:
        self.streams.close()
        (self.out_dir / "stats.json").write_text(json.dumps(self.stats(), indent=2))
        await self.redis.aclose()


async def consume(config: ConsumerConfig) -> None:
    """Consume until SIGTERM/SIGINT, then close every WAV and write stats.json."""
    consumer = Consumer(config)
    await consumer.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"consumer {config.consumer} reading {where(config.url)}", flush=True)
    try:
        while not stop.is_set():
            await consumer.step()
            consumer.streams.age_out(time.monotonic())
    finally:
        await consumer.close()
