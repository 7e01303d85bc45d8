"""The Redis sink on its own: start-up faults, one copy per frame, bounded retention."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import redis

from receiver.redis_sink import RedisSink, from_fields, stream_key
from tests.redis.services import RedisServer
from tests.support import expected_tone
from uplink_frame import Frame
from uplink_runtime.net import free_port


def tone_frame(seq: int, epoch: int = 7) -> Frame:
    audio = expected_tone(1, first_seq=seq)
    return Frame("main", seq, 1_700_000_000.25 + seq / 50, 16000, 1, audio, "pcm", epoch)


def run_receiver(*flags: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "receiver", "--out", str(tmp_path / "rx"), *flags]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


def test_redis_unreachable_at_start_is_one_line_and_exit_2(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    result = run_receiver("--sink", url, tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("receiver: cannot reach Redis at redis://127.0.0.1:")
    assert result.stderr.count("\n") == 1, result.stderr


def test_a_sink_that_is_neither_wav_nor_redis_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_receiver("--sink", "s3://bucket", tmp_path=tmp_path)
    assert result.returncode == 2
    assert (
        result.stderr
        == "receiver: --sink 's3://bucket': expected wav:DIR or redis://HOST:PORT/DB\n"
    )


async def _write_through_two_sinks(url: str, frames: list[Frame]) -> tuple[RedisSink, RedisSink]:
    first, second = RedisSink(url, 300, 64, 60), RedisSink(url, 300, 64, 60)
    try:
        await first.start()
        await first.write(frames)
        await second.write(frames[::-1])  # the same frames again, through another receiver
        await second.write(frames[:1])
    finally:
        await first.close()
        await second.close()
    return first, second


def test_each_frame_lands_once_whichever_receiver_had_it(redis_server: RedisServer) -> None:
    frames = [tone_frame(seq) for seq in range(5)]
    first, second = asyncio.run(_write_through_two_sinks(redis_server.url, frames))
    assert first.stats() == {"main": {"frames": 5, "duplicates": 0}}
    assert second.stats() == {"main": {"frames": 0, "duplicates": 6}}
    client = redis.Redis.from_url(redis_server.url)
    entries: Any = client.xrange(stream_key("main"))  # redis-py types its replies loosely
    client.close()
    back = [from_fields("main", fields, 1 << 20) for _, fields in entries]
    assert back == frames  # every field, t_capture and epoch included, reads back exactly


async def _write_many(url: str, retain_s: float, n: int) -> None:
    sink = RedisSink(url, retain_s, 64, 60)
    try:
        for seq in range(n):
            await sink.write([tone_frame(seq)])
    finally:
        await sink.close()


def test_retention_bounds_the_stream_and_its_dedup_set(redis_server: RedisServer) -> None:
    asyncio.run(_write_many(redis_server.url, retain_s=1.0, n=400))  # 1 s = 50 frames of 20 ms
    client = redis.Redis.from_url(redis_server.url)
    key = stream_key("main")
    length, seen, ttl = client.xlen(key), client.zcard(key + ":seen"), client.pttl(key)
    last: Any = client.xrevrange(key, count=1)  # redis-py types its replies loosely
    newest = last[0][1][b"seq"]
    client.close()
    assert seen == 50
    assert 50 <= length <= 150  # MAXLEN ~ trims whole nodes of 100 entries
    assert 0 < ttl <= 1000 and newest == b"399"


def test_a_silence_run_reads_back_as_the_run_it_was(redis_server: RedisServer) -> None:
    """suppress_silence's v3 run (seqs 1..10 silent) keeps its length through Redis."""
    run = Frame("main", 1, 1_700_000_000.27, 16000, 1, b"", "pcm", 7, 10, 320)
    frames = [tone_frame(0), run, tone_frame(11)]
    asyncio.run(_write_through_two_sinks(redis_server.url, frames))
    client = redis.Redis.from_url(redis_server.url)
    entries: Any = client.xrange(stream_key("main"))  # redis-py types its replies loosely
    client.close()
    back = [from_fields("main", fields, 1 << 20) for _, fields in entries]
    assert back == frames
    assert back[1].frames == 10 and back[1].samples == 320
