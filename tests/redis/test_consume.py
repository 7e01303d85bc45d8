"""The consumer after a kill between its write and its XACK: no gap, nothing twice."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from receiver.consume import Consumer, ConsumerConfig
from receiver.redis_sink import RedisSink, stream_key
from receiver.segments import stream_segments
from tests.redis.services import RedisServer
from tests.redis.test_cluster import consumed, start_consumer
from tests.redis.test_sink import tone_frame
from tests.support import Procs, expected_tone, poll_for, read_wav
from uplink_runtime.net import free_port

_N = 40


async def _killed_after_writing(url: str, out: Path) -> None:
    """Store _N frames; a consumer reads 20, writes 10 and dies before any XACK."""
    sink = RedisSink(url, 300, 64, 60)
    try:
        await sink.write([tone_frame(seq) for seq in range(_N)])
    finally:
        await sink.close()
    consumer = Consumer(ConsumerConfig(url, str(out), consumer="test", batch=20))
    await consumer.redis.xgroup_create(stream_key("main"), "wav", id="0")
    reply: Any = await consumer.redis.xreadgroup(  # redis-py types its replies loosely
        "wav", "test", {stream_key("main"): ">"}, count=20
    )
    for _, fields in reply[0][1][:10]:
        consumer._write("main", fields, time.time())
    consumer.streams.close()  # the files as a SIGKILL leaves them: written, never acked
    await consumer.redis.aclose()


def test_pending_entries_written_before_a_kill_are_rewritten_in_place_not_added(
    procs: Procs, tmp_path: Path, redis_server: RedisServer
) -> None:
    wav = tmp_path / "wav"
    asyncio.run(_killed_after_writing(redis_server.url, wav))
    consumer = start_consumer(procs, redis_server.url, wav)
    poll_for(lambda: consumed(redis_server.url), 60)
    consumer.send_signal(signal.SIGTERM)
    consumer.wait(timeout=20)
    stats = json.loads((wav / "stats.json").read_text())

    (path,) = stream_segments(wav, "main")  # the same file, carried on
    assert read_wav(path)[1] == expected_tone(_N)
    assert stats["streams"]["main"]["rewritten"] == 10  # the written, unacked ones
    assert stats["entries"] == _N and stats["acked"] == _N


def test_the_consumer_without_redis_is_one_line_and_exit_2(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    cmd = [sys.executable, "-m", "receiver", "consume", "--from", url]
    result = subprocess.run(
        [*cmd, "--sink", f"wav:{tmp_path}"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert result.stderr.startswith("consumer: cannot reach Redis at redis://127.0.0.1:")
    assert result.stderr.count("\n") == 1, result.stderr


async def _store_with_junk(url: str) -> None:
    sink = RedisSink(url, 300, 64, 60)
    try:
        await sink.write([tone_frame(seq) for seq in range(5)])
        await sink.redis.xadd(stream_key("main"), {"seq": "5", "audio": b"\x00" * 7})
        await sink.redis.xadd(stream_key("main"), {"junk": "x" * 1000})
        await sink.write([tone_frame(seq) for seq in range(5, 10)])
    finally:
        await sink.close()


def test_an_entry_that_is_not_a_frame_is_counted_acked_and_skipped(
    procs: Procs, tmp_path: Path, redis_server: RedisServer
) -> None:
    asyncio.run(_store_with_junk(redis_server.url))
    wav = tmp_path / "wav"
    consumer = start_consumer(procs, redis_server.url, wav)
    poll_for(lambda: consumed(redis_server.url), 60)  # the junk is acked too
    consumer.send_signal(signal.SIGTERM)
    consumer.wait(timeout=20)
    stats = json.loads((wav / "stats.json").read_text())
    assert stats["bad_entries"] == 2 and stats["entries"] == 12
    assert read_wav(wav / "main.wav")[1] == expected_tone(10)
