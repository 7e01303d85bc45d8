"""Receivers into Redis Streams: frames/s, real-time streams per receiver, memory, consumer lag.

Starts its own redis-server (no persistence) and receivers
(`python -m receiver --sink redis://...`) on free ports in a temp
directory, and load processes of python-socketio clients that emit 16 kHz
mono 20 ms PCM frames, each acked by a receiver only once Redis has it:

- frames/s: unpaced, each connection with --window emits in flight, into
  one receiver process and into two (--seconds each);
- real-time streams: N streams paced at 50 frames/s each over --conns
  connections to one receiver, N doubling from 8 (then halving back) while
  p99 capture-to-ack (ack time minus the frame's last sample) stays at or
  below 50 ms; the largest N that held is the figure;
- Redis memory per stream-minute: MEMORY USAGE of the stream keys and their
  dedup sets after that run, per stream and minute of audio;
- consumer lag: a `python -m receiver consume` runs during the capacity
  runs; its worst (write time minus the frame's last sample), and the most
  entries its group was behind.

    python bench/ingest.py --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _requires  # noqa: F401  (one line, not a traceback, when something is missing)
from _children import machine

from uplink_runtime.net import free_port

FRAME_S = 0.02
AUDIO = bytes(640)  # 20 ms of 16 kHz mono s16le
P99_MS = 50.0


@dataclass
class Load:
    """What one connection of a load process sends."""

    url: str
    streams: list[str]
    seconds: float
    paced: bool
    window: int


def frame(stream: str, seq: int, t_capture: float) -> dict[str, Any]:
    return {
        "v": 2, "stream": stream, "epoch": 1, "seq": seq, "t_capture": t_capture,
        "rate": 16000, "channels": 1, "format": "s16le", "codec": "pcm", "audio": AUDIO,
    }  # fmt: skip


Result = tuple[int, int, list[float], float]


async def _connection(load: Load) -> Result:
    """Acked, refused, capture-to-ack ms of each acked frame, and seconds from connect to done."""
    import socketio

    client = socketio.AsyncClient(reconnection=False)
    await client.connect(load.url, transports=["websocket"], wait_timeout=10)
    acked, refused, latency = 0, 0, []
    credit = asyncio.Semaphore(load.window)

    def done(ready: float, reply: Any = None) -> None:
        nonlocal acked, refused
        credit.release()
        if isinstance(reply, dict) and reply.get("ok"):
            acked += 1
            latency.append((time.time() - ready) * 1000)
        else:
            refused += 1

    start = time.time()
    seq = 0
    while time.time() - start < load.seconds:
        if load.paced:  # every stream's frame seq was captured from start + seq * 20 ms
            await asyncio.sleep(max(0.0, start + (seq + 1) * FRAME_S - time.time()))
        t_capture = start + seq * FRAME_S
        for stream in load.streams:
            await credit.acquire()
            data = frame(stream, seq, t_capture)
            ready = t_capture + FRAME_S if load.paced else time.time()
            await client.emit("audio_data", data, callback=lambda r=None, t=ready: done(t, r))
        seq += 1
    deadline = time.monotonic() + 10
    while credit._value < load.window and time.monotonic() < deadline:  # the last acks
        await asyncio.sleep(0.01)
    elapsed = time.time() - start
    await client.disconnect()
    return acked, refused, latency, elapsed


def _worker(loads: list[Load], out: Any) -> None:
    async def all_of() -> list[Result]:
        return list(await asyncio.gather(*(_connection(load) for load in loads)))

    out.put(asyncio.run(all_of()))


def run_load(loads: list[Load], processes: int) -> tuple[float, int, list[float]]:
    """The loads spread over load processes: acked frames/s, refused, the latencies."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    workers = [
        ctx.Process(target=_worker, args=(loads[i::processes], queue)) for i in range(processes)
    ]
    for w in workers:
        w.start()
    results = [r for _ in workers for r in queue.get(timeout=120)]
    for w in workers:
        w.join(timeout=30)
    rate = sum(r[0] / r[3] for r in results)  # connections run side by side, each timed alone
    return rate, sum(r[1] for r in results), [ms for r in results for ms in r[2]]


class Services:
    """redis-server, receivers and a consumer in one temp directory; all stopped at the end."""

    def __init__(self) -> None:
        self.work = Path(tempfile.mkdtemp(prefix="au-ingest-", dir="/tmp"))
        self.procs: list[subprocess.Popen[str]] = []
        port = free_port()
        self.redis_url = f"redis://127.0.0.1:{port}/0"
        args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        self._start([*args, "--dir", str(self.work)], stdout=subprocess.DEVNULL)
        self.cli("ping", want="PONG")

    def _start(self, args: list[str], **kwargs: Any) -> subprocess.Popen[str]:
        proc = subprocess.Popen(args, text=True, start_new_session=True, **kwargs)
        self.procs.append(proc)
        return proc

    def cli(self, *args: str, want: str | None = None) -> str:
        deadline = time.monotonic() + 20
        while True:
            port = self.redis_url.split(":")[2].split("/")[0]
            out = subprocess.run(["redis-cli", "-p", port, *args], capture_output=True,
                                 text=True, timeout=20, check=False).stdout.strip()  # fmt: skip
            if want is None or out == want or time.monotonic() > deadline:
                return out
            time.sleep(0.1)

    def receiver(self, n: int) -> str:
        cmd = [sys.executable, "-m", "receiver", "--port", "0", "--sink", self.redis_url]
        cmd += ["--out", str(self.work / f"rx{n}"), "--max-streams", "4096"]
        proc = self._start(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdout is not None
        found = re.search(r"http://[\d.]+:\d+", proc.stdout.readline())
        if not found:
            raise SystemExit("bench: a receiver did not start")
        return found.group(0)

    def consumer(self) -> tuple[subprocess.Popen[str], Path]:
        out = self.work / "wav"
        cmd = [sys.executable, "-m", "receiver", "consume", "--from", self.redis_url]
        proc = self._start([*cmd, "--sink", f"wav:{out}"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)  # fmt: skip
        return proc, out

    def flush(self) -> None:
        self.cli("flushall")

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
            if proc.stdout:
                proc.stdout.close()
        shutil.rmtree(self.work, ignore_errors=True)


def script_usec(services: Services) -> float:
    """Microseconds Redis spent per call of the append script (one frame per call here)."""
    for line in services.cli("info", "commandstats").splitlines():
        if line.startswith("cmdstat_evalsha:"):
            return float(line.split("usec_per_call=")[1].split(",")[0])
    return float("nan")


def throughput(urls: list[str], args: argparse.Namespace) -> float:
    loads = [Load(urls[i % len(urls)], [f"tp{i}"], args.seconds, False, args.window)
             for i in range(args.conns)]  # fmt: skip
    rate, _, _ = run_load(loads, args.load_procs)
    return rate


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("inf")


def realtime(url: str, n: int, args: argparse.Namespace) -> tuple[float, int]:
    """p99 capture-to-ack ms of n paced streams, and the frames refused."""
    conns = min(n, args.conns)
    loads = [Load(url, [f"rt{s}" for s in range(c, n, conns)], args.seconds, True, 64)
             for c in range(conns)]  # fmt: skip
    _, refused, latency = run_load(loads, args.load_procs)
    return p99(latency), refused


def behind(services: Services, n: int) -> int:
    """Entries of the n streams that the consumer group has not acked (read or not)."""
    total = 0
    for s in range(n):
        groups = services.cli("xinfo", "groups", f"audio:{{rt{s}}}").split("\n")
        for name in ("lag", "pending"):
            if name in groups:
                value = groups[groups.index(name) + 1]
                total += int(value) if value.lstrip("-").isdigit() else 0
    return total


def memory_per_stream_minute(services: Services, n: int, seconds: float) -> float:
    used = 0
    for s in range(n):
        for key in (f"audio:{{rt{s}}}", f"audio:{{rt{s}}}:seen"):
            value = services.cli("memory", "usage", key, "samples", "0")
            used += int(value) if value.isdigit() else 0
    return used / (n * seconds / 60)


def measure(services: Services, url: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    """One paced run of n streams, with a consumer reading along."""
    services.flush()
    consumer, out = services.consumer()
    sampler = _Sampler(services, n)
    sampler.start()
    p99_ms, refused = realtime(url, n, args)
    sampler.stop()
    mem = memory_per_stream_minute(services, n, args.seconds)
    consumer.send_signal(signal.SIGTERM)
    consumer.wait(timeout=30)
    stats = json.loads((out / "stats.json").read_text())
    lag_ms, lag_p99 = stats["lag_ms_max"], stats["lag_ms_p99"]
    shutil.rmtree(out, ignore_errors=True)
    print(
        f"  {n:4d} streams: p99 {p99_ms:7.1f} ms, refused {refused}, "
        f"consumer lag p99 {lag_p99} ms, max {lag_ms} ms, {sampler.most} entries behind",
        flush=True,
    )
    ok = p99_ms <= P99_MS and refused == 0
    return {
        "ok": ok,
        "streams": n,
        "p99": p99_ms,
        "mem": mem,
        "lag_ms": lag_ms,
        "lag_p99": lag_p99,
        "lag_n": sampler.most,
    }


def capacity(services: Services, url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Doubling from 8 until p99 passes 50 ms, then two bisection steps back."""
    runs: dict[int, dict[str, Any]] = {}
    lo, hi, n = 0, 0, 8
    while n <= args.max_streams:
        runs[n] = measure(services, url, n, args)
        if not runs[n]["ok"]:
            hi = n
            break
        lo, n = n, n * 2
    for _ in range(2 if hi else 0):
        mid = (lo + hi) // 2
        if mid in (lo, hi) or mid < 1:
            break
        runs[mid] = measure(services, url, mid, args)
        lo, hi = (mid, hi) if runs[mid]["ok"] else (lo, mid)
    return runs[lo] if lo else {"streams": 0}


class _Sampler:
    """The most entries the consumer group was behind, sampled every 250 ms."""

    def __init__(self, services: Services, n: int) -> None:
        self.services, self.n, self.most = services, n, 0
        self._stop = False
        self._task: Any = None

    def start(self) -> None:
        import threading

        self._task = threading.Thread(target=self._run, daemon=True)
        self._task.start()

    def _run(self) -> None:
        while not self._stop:
            self.most = max(self.most, behind(self.services, min(self.n, 64)))
            time.sleep(0.25)

    def stop(self) -> None:
        self._stop = True
        self._task.join(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="each run (%(default)s)")
    parser.add_argument("--conns", type=int, default=8, help="connections per run (%(default)s)")
    parser.add_argument(
        "--window", type=int, default=16, help="unpaced emits in flight per connection"
    )
    parser.add_argument("--load-procs", type=int, default=2, help="load generator processes")
    parser.add_argument("--max-streams", type=int, default=1024, help="stop doubling here")
    args = parser.parse_args()
    if not shutil.which("redis-server"):
        raise SystemExit("bench: redis-server not found: run scripts/bootstrap.sh")
    services = Services()
    try:
        version = services.cli("info", "server").split("redis_version:")[1].split()[0]
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"machine: {machine()}; redis-server {version}; load average {load}")
        first = services.receiver(1)
        one = throughput([first], args)
        usec = script_usec(services)
        services.flush()
        two = throughput([first, services.receiver(2)], args)
        services.flush()
        print("capacity runs (one receiver):", flush=True)
        best = capacity(services, first, args)
    finally:
        services.stop()
    rows = [
        ("frames/s into Redis, 1 receiver process", f"{one:,.0f}"),
        ("frames/s into Redis, 2 receiver processes", f"{two:,.0f}"),
        ("Redis time per stored frame (the append script)", f"{usec:.1f} us"),
        ("real-time 16 kHz mono streams, 1 receiver, p99 capture-to-ack <= 50 ms",
         str(best["streams"])),
        ("  p99 capture-to-ack at that load", f"{best.get('p99', float('nan')):.1f} ms"),
        ("Redis memory per stream-minute (16 kHz mono PCM, with dedup set)",
         f"{best.get('mem', 0) / 1e6:.2f} MB"),
        ("consumer lag at that load: p99 of write - capture (last 4096)",
         f"{best.get('lag_p99', 0)} ms"),
        ("consumer lag at that load: worst (a new key waits for a SCAN)",
         f"{best.get('lag_ms', 0)} ms"),
        ("consumer lag at that load: most entries behind", f"{best.get('lag_n', 0)}"),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    print(f"\n| {'figure'.ljust(width)} | value |\n|{'-' * (width + 2)}|-------|")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")
    print(f"\n{' '.join(sys.argv)}: --seconds {args.seconds} --conns {args.conns} "
          f"--window {args.window} --load-procs {args.load_procs}")  # fmt: skip


if __name__ == "__main__":
    main()
