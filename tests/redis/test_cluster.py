"""Two receivers behind a real HAProxy into a real Redis; three senders, one stream.

Evidence is Redis itself (every seq of ``audio:{main}``) and the consumer's
WAV, never the senders' report; the report only says how many frames
capture made.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from receiver.redis_sink import stream_key
from receiver.segments import stream_segments
from tests.receivers import start_receiver
from tests.redis.services import RedisServer, start_haproxy
from tests.support import Procs, expected_tone, poll_for, read_wav, start_supervisor


@dataclass
class Cluster:
    redis: RedisServer
    front: str  # HAProxy: where the senders connect
    receivers: list[subprocess.Popen[str]]
    outs: list[Path]


@pytest.fixture
def cluster(procs: Procs, tmp_path: Path, redis_server: RedisServer) -> Iterator[Cluster]:
    urls, receivers, outs = [], [], []
    for n in range(2):
        out = tmp_path / f"rx{n}"
        url, proc = start_receiver(procs, out, "--sink", redis_server.url)
        urls.append(url)
        receivers.append(proc)
        outs.append(out)
    yield Cluster(redis_server, start_haproxy(procs, tmp_path, urls), receivers, outs)


def start_pipeline(procs: Procs, run_dir: Path, tmp_path: Path, front: str, seconds: int) -> Any:
    flags = ("--server", front, "--senders", "3", "--delivery", "complete")
    run = start_supervisor(
        procs, run_dir, *flags, "--duration", str(seconds), report=tmp_path / "report.json"
    )
    return run.proc


def captured(proc: subprocess.Popen[str], tmp_path: Path) -> int:
    """How many frames capture made (the report says; Redis and the WAV are the evidence)."""
    _, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    report = json.loads((tmp_path / "report.json").read_text())
    return int(report["frames"]["captured"])


def redis_seqs(url: str) -> list[tuple[int, int]]:
    """(epoch, seq) of every entry of audio:{main}, in stream order."""
    client = redis.Redis.from_url(url)
    try:
        entries: Any = client.xrange(stream_key("main"))  # redis-py types its replies loosely
    finally:
        client.close()
    return [(int(f[b"epoch"]), int(f[b"seq"])) for _, f in entries]


def assert_every_seq_once(url: str, n: int) -> None:
    pairs = redis_seqs(url)
    assert len({epoch for epoch, _ in pairs}) == 1
    seqs = [seq for _, seq in pairs]
    assert len(seqs) == len(set(seqs)), "a frame was appended twice"
    assert sorted(seqs) == list(range(n)), f"missing: {sorted(set(range(n)) - set(seqs))[:20]}"


def start_consumer(procs: Procs, url: str, out: Path) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "receiver", "consume", "--from", url, "--sink", f"wav:{out}"]
    proc = procs.start([*cmd, "--consumer", "test"], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # bounded by the test timeout
    assert re.match(r"consumer test reading", line), line
    return proc


def consumed(url: str) -> bool:
    """The group has read every entry and acked every one it read."""
    client = redis.Redis.from_url(url)
    try:
        groups = client.xinfo_groups(stream_key("main"))
    finally:
        client.close()
    return len(groups) == 1 and groups[0]["lag"] == 0 and groups[0]["pending"] == 0


def stop(proc: subprocess.Popen[str], out: Path) -> dict[str, Any]:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)
    return dict(json.loads((out / "stats.json").read_text()))


def assert_consumer_wav_is_the_tone(procs: Procs, url: str, out: Path, n: int) -> None:
    poll_for(lambda: consumed(url), 60)
    (path,) = stream_segments(out, "main")
    _, audio = read_wav(path)
    assert len(audio) == n * 640, f"{len(audio) // 640} frames in the WAV, {n} captured"
    assert audio == expected_tone(n)


def test_three_senders_two_receivers_every_seq_once_and_the_consumer_wav_is_the_tone(
    procs: Procs, run_dir: Path, tmp_path: Path, cluster: Cluster
) -> None:
    wav = tmp_path / "wav"
    consumer = start_consumer(procs, cluster.redis.url, wav)
    n = captured(start_pipeline(procs, run_dir, tmp_path, cluster.front, 4), tmp_path)
    assert_every_seq_once(cluster.redis.url, n)
    assert_consumer_wav_is_the_tone(procs, cluster.redis.url, wav, n)
    assert stop(consumer, wav)["streams"]["main"]["duplicates"] == 0
    stats = [stop(proc, out) for proc, out in zip(cluster.receivers, cluster.outs, strict=True)]
    frames = [s["streams"]["main"]["frames"] for s in stats]
    assert min(frames) > 0 and sum(frames) == n  # both took part; each frame stored once


def test_a_receiver_killed_mid_run_loses_nothing(
    procs: Procs, run_dir: Path, tmp_path: Path, cluster: Cluster
) -> None:
    pipeline = start_pipeline(procs, run_dir, tmp_path, cluster.front, 5)
    poll_for(lambda: len(redis_seqs(cluster.redis.url)) > 50, 30)
    os.kill(cluster.receivers[0].pid, signal.SIGKILL)
    n = captured(pipeline, tmp_path)
    assert_every_seq_once(cluster.redis.url, n)
    survivor = stop(cluster.receivers[1], cluster.outs[1])
    assert survivor["clients"] >= 3  # all three senders end up on it, the killed one's too


def test_redis_stopped_for_two_seconds_loses_nothing(
    procs: Procs, run_dir: Path, tmp_path: Path, cluster: Cluster
) -> None:
    pipeline = start_pipeline(procs, run_dir, tmp_path, cluster.front, 6)
    poll_for(lambda: len(redis_seqs(cluster.redis.url)) > 50, 30)
    cluster.redis.stop()
    time.sleep(2)
    cluster.redis.start()
    n = captured(pipeline, tmp_path)
    assert_every_seq_once(cluster.redis.url, n)
    stats = [stop(proc, out) for proc, out in zip(cluster.receivers, cluster.outs, strict=True)]
    assert sum(s["sink_errors"] + s["refused_sink_down"] for s in stats) > 0  # it was seen


def test_the_consumer_killed_and_restarted_leaves_no_gap_and_no_repeat(
    procs: Procs, run_dir: Path, tmp_path: Path, cluster: Cluster
) -> None:
    wav = tmp_path / "wav"
    consumer = start_consumer(procs, cluster.redis.url, wav)
    pipeline = start_pipeline(procs, run_dir, tmp_path, cluster.front, 5)
    poll_for(lambda: (wav / "main.wav").exists() and (wav / "main.wav").stat().st_size > 64000, 30)
    os.killpg(consumer.pid, signal.SIGKILL)
    consumer.wait(timeout=10)
    consumer = start_consumer(procs, cluster.redis.url, wav)
    n = captured(pipeline, tmp_path)
    assert_consumer_wav_is_the_tone(procs, cluster.redis.url, wav, n)  # one file, each seq once
    stop(consumer, wav)
