"""Hostile peers against the reference receiver while a good client streams.

For each attack (bench/hostile_attacks.py, run in its own process): a fresh
``python -m receiver``; a good python-socketio client emitting a 16 kHz mono
20 ms frame every 20 ms with an ack; 3 s of quiet, the attack for
``--seconds``, 3 s of quiet again. Prints the receiver's RSS and open fds
before / during (peak) / after, the bytes it wrote to disk, its log bytes
(and per second of attack), and the good client's emit->ack p99 and frames
lost (sent but not in its WAV, by the receiver's stats.json).

    python bench/hostile.py --seconds 10 [--only SUBSTRING] [--nofile 1024]

Goals (issue 14): RSS <= 64 MB whatever is sent; log growth <= 10 KB/s; the
good client loses 0 frames and keeps p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import socketio

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hostile_attacks import ATTACKS, frame  # noqa: E402  (bench/ is the script's directory)

QUIET_S = 3.0


@dataclass
class Samples:
    rss: list[float] = field(default_factory=list)
    fds: list[int] = field(default_factory=list)

    def take(self, pid: int) -> None:
        with open(f"/proc/{pid}/statm") as f:
            self.rss.append(int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1 << 20))
        self.fds.append(len(os.listdir(f"/proc/{pid}/fd")))


@dataclass
class Target:
    proc: subprocess.Popen[str]
    url: str
    out: Path
    log: Path


class GoodClient:
    """Real-time frames with acks; latency emit->ack, and what never came back ok."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        self.latencies: list[float] = []
        self.sent = 0
        self.ok = 0
        self._emits: set[asyncio.Future[Any]] = set()

    async def run(self, url: str, stop: asyncio.Event) -> None:
        await self.client.connect(url, transports=["websocket"], wait_timeout=10)
        started = time.monotonic()
        while not stop.is_set():
            self._emit(self.sent)
            self.sent += 1
            await asyncio.sleep(max(0.0, started + self.sent * 0.02 - time.monotonic()))
        await asyncio.sleep(2.0)  # the last acks
        await self.client.disconnect()

    def _emit(self, seq: int) -> None:
        t0 = time.monotonic()

        def on_ack(reply: Any = None) -> None:
            self.latencies.append((time.monotonic() - t0) * 1000)
            self.ok += isinstance(reply, dict) and reply.get("ok") is True

        if self.client.connected:
            task = asyncio.ensure_future(
                self.client.emit("audio_data", frame("good", seq), callback=on_ack)
            )
            self._emits.add(task)
            task.add_done_callback(self._emits.discard)

    def p99(self) -> float:
        ordered = sorted(self.latencies) or [float("nan")]
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def start_receiver(out: Path, log: Path, nofile: int | None) -> Target:
    cmd = [sys.executable, "-m", "receiver", "--port", "0", "--out", str(out)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=log.open("w"), text=True)
    if nofile:
        resource.prlimit(proc.pid, resource.RLIMIT_NOFILE, (nofile, nofile))
    assert proc.stdout is not None
    match = re.search(r"http://[\d.]+:\d+", proc.stdout.readline())
    assert match, "receiver did not start"
    return Target(proc, match.group(0), out, log)


async def sample(pid: int, samples: Samples, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        samples.take(pid)
        await asyncio.sleep(0.25)


async def one_row(name: str, seconds: float, nofile: int | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        out, log = Path(tmp) / "rec", Path(tmp) / "receiver.log"
        target = start_receiver(out, log, nofile)
        try:
            row = await _measure(name, seconds, target)
        finally:
            target.proc.terminate()  # SIGTERM: the receiver writes stats.json
            target.proc.wait(timeout=30)
        # an attack that writes into the good client's own stream (14.1) adds its frames there
        forged = int(row["sent"].get("good_stream_frames", 0))
        written = _written(out, "good", row.pop("acked_ok")) - forged
        row["lost"] = row.pop("sent_good") - written
        return row


def _written(out: Path, stream: str, acked_ok: int) -> int:
    """Frames of ``stream`` in its WAV, by the receiver's own count (acked ``ok`` if it died)."""
    try:
        stats = json.loads((out / "stats.json").read_text())
        return int(stats["streams"][stream]["frames"])
    except (OSError, ValueError, KeyError):
        return acked_ok


async def _measure(name: str, seconds: float, target: Target) -> dict[str, Any]:
    proc, url, out, log = target.proc, target.url, target.out, target.log
    good, stop = GoodClient(), asyncio.Event()
    streaming = asyncio.create_task(good.run(url, stop))
    before, during, after = Samples(), Samples(), Samples()
    await sample(proc.pid, before, QUIET_S)
    log_before = log.stat().st_size
    attacker = await asyncio.create_subprocess_exec(
        sys.executable,
        str(REPO / "bench" / "hostile_attacks.py"),
        name,
        url,
        str(seconds),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,  # aiohttp's "Unclosed connection" as it is cut off
    )
    sampler = asyncio.create_task(sample(proc.pid, during, seconds + 600))
    sent_raw, _ = await attacker.communicate()
    sampler.cancel()
    log_during = log.stat().st_size - log_before
    await sample(proc.pid, after, QUIET_S)
    stop.set()
    await streaming
    disk = sum(p.stat().st_size for p in out.rglob("*") if p.is_file() and p.name != "good.wav")
    return {
        "attack": name,
        "sent": json.loads(sent_raw or b"{}"),
        "rss": (before.rss[-1], max(during.rss or [0]), after.rss[-1]),
        "fds": (before.fds[-1], max(during.fds or [0]), after.fds[-1]),
        "disk_mb": disk / (1 << 20),
        "log_kb": log_during / 1024,
        "log_kb_s": log_during / 1024 / seconds,
        "p99_ms": good.p99(),
        "sent_good": good.sent,
        "acked_ok": good.ok,
        "alive": proc.poll() is None,
    }


def print_table(rows: list[dict[str, Any]]) -> None:
    head = f"{'attack':36} {'RSS MB before/peak/after':>25} {'fds b/p/a':>14} {'disk MB':>8}"
    print(head + f" {'log KB':>7} {'KB/s':>6} {'p99 ms':>7} {'lost':>5}")
    for r in rows:
        rss = "/".join(f"{v:.0f}" for v in r["rss"])
        fds = "/".join(str(v) for v in r["fds"])
        print(
            f"{r['attack']:36} {rss:>25} {fds:>14} {r['disk_mb']:8.1f} {r['log_kb']:7.1f}"
            f" {r['log_kb_s']:6.2f} {r['p99_ms']:7.1f} {r['lost']:5d}"
            + ("" if r["alive"] else "  RECEIVER DIED")
        )
    for r in rows:
        print(f"  {r['attack']}: sent {r['sent']}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python bench/hostile.py")
    parser.add_argument("--seconds", type=float, default=10.0, help="each attack's length")
    parser.add_argument("--only", default="", help="run the attacks whose name contains this")
    parser.add_argument("--nofile", type=int, help="the receiver's RLIMIT_NOFILE (ulimit -n)")
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; receiver nofile {args.nofile or 'inherited'}"
    )
    rows = [
        asyncio.run(one_row(name, args.seconds, args.nofile))
        for name in ATTACKS
        if args.only in name
    ]
    print_table(rows)


if __name__ == "__main__":
    main()
