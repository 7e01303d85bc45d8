"""Frames into Redis Streams: one key per audio stream, each frame once, acked only once stored.

Layout (docs/redis.md): the stream key is ``audio:{<stream>}`` (the braces
are a hash tag, so Redis Cluster keeps a stream and its dedup set on one
shard); each entry has the fields ``seq``, ``epoch``, ``t_capture``,
``rate``, ``channels``, ``format``, ``codec`` and ``audio``. Beside it,
``audio:{<stream>}:seen`` is a sorted set of ``epoch:seq`` identities: the
Lua script checks it and appends in one atomic step, so any number of
receivers sharing one Redis store a frame once, whichever of them it
reached and however often. Both keys hold about ``retain_s`` of audio
(``XADD MAXLEN ~`` and a trim of the set to the same count) and expire
when the stream has been idle that long, so Redis memory is bounded.

A copy of a frame that comes back after its identity left the set (older
than the retention) is appended again; the consumer writes by seq, in
place, so even that costs no audio twice (receiver/consume.py).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from receiver.guard import Rejected
from receiver.sinks import SinkDown
from uplink_frame import Frame, FrameError, from_dict
from uplink_frame.format import FORMAT, SILENCE_VERSION, VERSION
from uplink_frame.ratelog import RateLog

logger = logging.getLogger(__name__)
# silent, frame_samples: 0 for an audio frame; a silence run (format v3, suppress_silence)
# stands for `silent` frames of `frame_samples` each, seqs seq .. seq + silent - 1
FIELDS = (
    "seq", "epoch", "t_capture", "rate", "channels", "format", "codec", "audio",
    "silent", "frame_samples",
)  # fmt: skip
TIMEOUT_S = 1.0  # a hung Redis fails a write within this, so the frames go back to their sender
_CLOSED_NAMES = 256  # aged-out streams whose counts stay listed

# KEYS: the stream, its dedup set. ARGV: maxlen, ttl_ms, then per frame its identity and
# the values of FIELDS in order. Returns how many frames were already there.
APPEND = """
local stream, seen = KEYS[1], KEYS[2]
local maxlen, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local dup = 0
for i = 3, #ARGV, 11 do
  if redis.call('ZSCORE', seen, ARGV[i]) then
    dup = dup + 1
  else
    local id = redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*',
      'seq', ARGV[i + 1], 'epoch', ARGV[i + 2], 't_capture', ARGV[i + 3],
      'rate', ARGV[i + 4], 'channels', ARGV[i + 5], 'format', ARGV[i + 6],
      'codec', ARGV[i + 7], 'audio', ARGV[i + 8],
      'silent', ARGV[i + 9], 'frame_samples', ARGV[i + 10])
    redis.call('ZADD', seen, string.match(id, '^(%d+)'), ARGV[i])
  end
end
local over = redis.call('ZCARD', seen) - maxlen
if over > 0 then redis.call('ZREMRANGEBYRANK', seen, 0, over - 1) end
redis.call('PEXPIRE', stream, ttl)
redis.call('PEXPIRE', seen, ttl)
return dup
"""


def stream_key(stream: str) -> str:
    return f"audio:{{{stream}}}"


def stream_of(key: str) -> str | None:
    """The stream id of a stream key; None for any other key."""
    if key.startswith("audio:{") and key.endswith("}"):
        return key[7:-1]
    return None


def field_values(frame: Frame) -> list[str | int | bytes]:
    """The values of FIELDS for one frame (t_capture as repr: it reads back exactly)."""
    return [
        frame.seq,
        frame.epoch,
        repr(frame.t_capture),
        frame.rate,
        frame.channels,
        FORMAT,
        frame.codec,
        frame.audio,
        frame.silent,
        frame.frame_samples if frame.silent else 0,
    ]


def from_fields(stream: str, fields: dict[bytes, bytes], max_bytes: int) -> Frame:
    """An entry read back, validated like a frame off the wire; FrameError if it is not one."""
    try:
        text = {k.decode(): v for k, v in fields.items() if k != b"audio"}
        silent = int(text.get("silent", b"0"))
        obj: dict[str, Any] = {
            "v": SILENCE_VERSION if silent else VERSION,
            "stream": stream,
            "format": text["format"].decode(),
            "codec": text["codec"].decode(),
            "audio": fields[b"audio"],
            "t_capture": float(text["t_capture"]),
        }
        for name in (
            "seq",
            "epoch",
            "rate",
            "channels",
            *(("silent", "frame_samples") if silent else ()),
        ):
            obj[name] = int(text[name])
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        raise FrameError(f"entry fields wrong: {type(exc).__name__} {exc}"[:200]) from None
    return from_dict(obj, max_bytes)


def connect(url: str) -> Redis:
    """A client that fails fast (TIMEOUT_S) and retries once on a new connection.

    The one retry covers a pooled connection that died with a restarted Redis.
    """
    return Redis.from_url(
        url,
        socket_timeout=TIMEOUT_S,
        socket_connect_timeout=TIMEOUT_S,
        retry=Retry(NoBackoff(), 1),
    )


def where(url: str) -> str:
    """The URL without credentials, for log lines."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}:{parts.port or 6379}{parts.path}"


class RedisSink:
    """The Sink that appends to Redis Streams (receiver/sinks.py)."""

    def __init__(self, url: str, retain_s: float, max_streams: int, idle_stream_s: float) -> None:
        self.url, self.retain_s = url, retain_s
        self.max_streams, self.idle_stream_s = max_streams, idle_stream_s
        self.redis = connect(url)
        self.script = self.redis.register_script(APPEND)
        self.counts = dict.fromkeys(("sink_errors", "rejected_streams", "streams_aged_out"), 0)
        self.active: dict[str, float] = {}  # stream id -> last write (monotonic)
        self.per_stream: dict[str, dict[str, int]] = {}
        self.down = False
        self._rate = RateLog(logger)

    async def start(self) -> None:
        try:
            await self.redis.ping()
        except (RedisError, OSError) as exc:
            raise SinkDown(f"cannot reach Redis at {where(self.url)}: {exc}") from None

    async def write(self, frames: list[Frame]) -> None:
        groups: dict[str, list[Frame]] = defaultdict(list)
        for frame in frames:
            groups[frame.stream].append(frame)
        for stream, group in groups.items():
            self._admit(stream)
            await self._append(stream, group)

    def _admit(self, stream: str) -> None:
        if stream not in self.active and len(self.active) >= self.max_streams:
            self.counts["rejected_streams"] += 1
            self._rate.hit("streams", "receiver %d: new stream %s refused", os.getpid(), stream)
            raise Rejected("streams", f"more than {self.max_streams} streams")
        self.active[stream] = time.monotonic()

    async def _append(self, stream: str, frames: list[Frame]) -> None:
        maxlen = max(1, math.ceil(self.retain_s / frames[0].duration_s))
        args: list[Any] = [maxlen, max(1000, int(self.retain_s * 1000))]
        for frame in frames:
            args += [f"{frame.epoch}:{frame.seq}", *field_values(frame)]
        try:
            keys = [stream_key(stream), stream_key(stream) + ":seen"]
            dup = int(await self.script(keys=keys, args=args))
        except (RedisError, OSError) as exc:
            self.counts["sink_errors"] += len(frames)
            self.down = True
            self._rate.hit("down", "receiver %d: Redis write failed: %s", os.getpid(), exc)
            raise SinkDown(f"Redis: {exc}") from None
        self.down = False
        row = self.per_stream.setdefault(stream, {"frames": 0, "duplicates": 0})
        row["frames"] += len(frames) - dup
        row["duplicates"] += dup

    async def healthy(self) -> bool:
        """After a failed write, a PING decides; new clients wait until Redis answers."""
        if self.down:
            try:
                await self.redis.ping()
            except (RedisError, OSError):
                return False
            logger.info("receiver %d: Redis at %s answers again", os.getpid(), where(self.url))
            self.down = False
        return True

    def age_out(self, now: float) -> None:
        for stream, last in list(self.active.items()):
            if now - last >= self.idle_stream_s:
                del self.active[stream]
                self.counts["streams_aged_out"] += 1
        while len(self.per_stream) > _CLOSED_NAMES + len(self.active):
            oldest = next(s for s in self.per_stream if s not in self.active)
            del self.per_stream[oldest]

    def stats(self) -> dict[str, dict[str, Any]]:
        return {name: dict(row) for name, row in self.per_stream.items()}

    async def close(self) -> None:
        await self.redis.aclose()
