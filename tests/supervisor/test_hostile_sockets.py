"""Attacks on the supervisor's own sockets: the loop lives on, the audio flows, the report is
written, and every refused message is counted.

Any process of the same user can reach control.sock and stats.sock; these
are the messages that used to kill the supervisor or grow it without bound.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import msgpack
import pytest
import zmq

from tests.support import (
    Procs,
    control,
    live_status,
    poll_for,
    start_pipeline,
    wait_child_pid,
)

FOREIGN_NAMES = 1000


def heartbeat(name: str, pid: int, **changes: Any) -> bytes:
    message: dict[str, Any] = {
        "name": name,
        "role": "sender",
        "pid": pid,
        "t": time.time(),
        "final": False,
        "counters": {"acked": 10**6},
        "hist": {},
        "info": {"rss_mb": 1.0, "cpu_s": 0.0},
    }
    for key, value in changes.items():
        message[key] = {**message[key], **value} if isinstance(value, dict) else value
    packed: bytes = msgpack.packb(message, use_bin_type=True)
    return packed


def attack_control(ctx: zmq.Context[Any], endpoint: str) -> None:
    with ctx.socket(zmq.DEALER) as dealer:  # frames a REQ would never send
        dealer.linger = 0
        dealer.connect(endpoint)
        dealer.send_multipart([b"two", b"frames"])
        dealer.send_multipart([b"", b'{"cmd": "status"}', b"extra"])
    with ctx.socket(zmq.REQ) as req:
        req.linger = 0
        req.connect(endpoint)
        req.send(b"[" * 2000 + b"]" * 2000)  # nested deeper than the recursion limit
        assert req.poll(10_000), "no answer to a nested request"
        assert "bad control request" in json.loads(req.recv())["error"]


def attack_with_random_bytes(path: Path) -> None:
    for n in range(4):
        with socket.socket(socket.AF_UNIX) as raw:
            raw.connect(str(path))
            raw.sendall(os.urandom(4096) if n % 2 else b"\x00\x10" + os.urandom(600))


def attack_stats(ctx: zmq.Context[Any], endpoint: str, sender_pid: int) -> zmq.Socket[Any]:
    """Forged heartbeats; the socket stays open: libzmq may drop what a closed socket still held."""
    push: zmq.Socket[Any] = ctx.socket(zmq.PUSH)
    push.linger = 0
    push.connect(endpoint)
    push.send(heartbeat("sender-1", sender_pid, info={"pending": "x"}))
    push.send(heartbeat("sender-1", sender_pid, hist={10**6: 1}))
    push.send(heartbeat("sender-1", sender_pid, info={"cpu_s": float("nan")}))
    push.send(heartbeat("sender-1", sender_pid, info={"rms_db": float("nan")}))
    push.send_multipart([heartbeat("sender-1", sender_pid), b"more"])
    push.send(b"\x91" * 100_000)  # msgpack arrays nested 100,000 deep
    for i in range(FOREIGN_NAMES):
        push.send(heartbeat(f"stranger-{i}", 4_000_000 + i))
    push.send(heartbeat("sender-1", sender_pid + 1))  # a pid we never started
    return push


@pytest.fixture
def pipeline(procs: Procs, run_dir: Path, tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    rec, report = tmp_path / "rec", tmp_path / "report.json"
    return start_pipeline(procs, run_dir, rec, report), tmp_path


def test_the_supervisor_survives_every_attack_and_counts_it(
    pipeline: tuple[subprocess.Popen[str], Path], run_dir: Path
) -> None:
    proc, tmp_path = pipeline
    sender_pid = wait_child_pid(run_dir, "sender-1")
    wav = tmp_path / "rec" / "main.wav"
    poll_for(wav.exists, timeout=30)
    foreign = FOREIGN_NAMES + 1
    seen: list[Any] = []

    def every_forgery_counted() -> dict[str, Any] | None:
        status = live_status(run_dir)
        seen[:] = [status and status["rejected_messages"]]
        # at least: a stale heartbeat of a child replaced under load is foreign too
        n = status and status["rejected_messages"].get("heartbeat_foreign", 0)
        return status if n and n >= foreign else None

    ctx: zmq.Context[Any] = zmq.Context()
    try:
        attack_control(ctx, f"ipc://{run_dir / 'control.sock'}")
        for name in ("control.sock", "stats.sock"):
            attack_with_random_bytes(run_dir / name)
        push = attack_stats(ctx, f"ipc://{run_dir / 'stats.sock'}", sender_pid)
        try:  # control still answers, and every forged heartbeat was seen
            status = poll_for(every_forgery_counted, timeout=90)
        except AssertionError:
            raise AssertionError(f"forged heartbeats not all counted: {seen}") from None
        push.close()
    finally:
        ctx.destroy(linger=0)
    assert {row["name"] for row in status["processes"]} == {"receiver", "sender-1", "capture"}
    size_then = wav.stat().st_size
    poll_for(lambda: wav.stat().st_size > size_then, timeout=30)  # the audio still flows
    control("stop", run_dir=run_dir)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "Traceback" not in err, err[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    rejected = report["rejected_messages"]
    assert rejected["heartbeat_malformed"] >= 5, rejected
    assert rejected["heartbeat_foreign"] >= foreign, rejected
    assert rejected["control_malformed"] >= 3, rejected
    assert set(report["processes"]) == {"receiver", "sender-1", "capture"}
    # the totals are the children's own: the forged acked = 10**6 counted nowhere
    assert report["frames"]["acked"] == received(tmp_path) > 0
    refusals = [line for line in err.splitlines() if "refused a message" in line]
    # one line for the 1st, 101st, ... of each kind: 11 for 1,001 foreign heartbeats
    assert len(refusals) <= 11 + 2 * 2, refusals


def received(tmp_path: Path) -> int:
    """Frames the receiver itself wrote, from its own stats.json."""
    stats = json.loads((tmp_path / "rec" / "stats.json").read_text())
    return int(stats["streams"]["main"]["frames"])
