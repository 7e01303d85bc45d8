"""Scale-out: unpaced throughput for 1, 2, 4 senders beside the tutorial loop, and
the most real-time 16 kHz mono streams one machine carries with p99 <= 50 ms.

Part 1 runs `supervisor start --no-pace` (tone, 16 kHz mono, 20 ms frames,
embedded receiver over loopback) and, after --warmup, samples for --seconds the
acked frames and the CPU time of every process (supervisor, capture, senders,
receiver) from /proc. The tutorial loop (bench/naive_loop.py) then sends the
same frames, unpaced, to a receiver of the same kind, measured the same way.

Part 2 starts K paced tone streams (one capture process each, --stream-senders
senders) for --stream-seconds and reads capture->ack latency from the report,
doubling K until p99 exceeds 50 ms or a frame is lost.

    python bench/scale.py                 # both parts, about 5 minutes
    python bench/scale.py --part streams  # only part 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _requires  # noqa: F401  (one line, not a traceback, when something is missing)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _children import machine
from naive_loop import run_loop
from pipeline import cpu_s

from supervisor.ops.control import ControlError, request

P99_BUDGET_MS = 50.0


def supervise(work: Path, seconds: float, *extra: str) -> subprocess.Popen[bytes]:
    run = [sys.executable, "-m", "supervisor", "start", "--duration", str(seconds)]
    run += ["--run-dir", str(work / "run"), "--recordings", str(work / "rec")]
    run += ["--report", str(work / "report.json"), *extra]
    return subprocess.Popen(run, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def running(work: Path, expect: int, timeout: float = 60) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            rows: list[dict[str, Any]] = request(str(work / "run"), {"cmd": "status"})["processes"]
        except ControlError:
            rows = []
        if len(rows) >= expect and all(r["state"] == "running" for r in rows):
            return rows
        time.sleep(0.1)
    raise SystemExit(f"bench: the pipeline in {work} did not start")


def snapshot(work: Path, pids: list[int]) -> tuple[int, float]:
    """Frames acked so far (every sender), and CPU seconds of every process."""
    rows = request(str(work / "run"), {"cmd": "status"})["processes"]
    acked = sum(r["counters"].get("acked", 0) for r in rows if r["role"] == "sender")
    return acked, sum(cpu_s(pid) for pid in pids)


def throughput(senders: int, warmup: float, seconds: float) -> tuple[float, float]:
    """Unpaced frames per second end to end and CPU seconds per 1000 frames."""
    work = Path(tempfile.mkdtemp(prefix="au-scale-", dir="/tmp"))
    proc = supervise(work, warmup + seconds + 3, "--no-pace", "--senders", str(senders))
    try:
        rows = running(work, senders + 2)
        pids = [proc.pid] + [int(r["pid"]) for r in rows]
        time.sleep(warmup)
        frames0, cpu0 = snapshot(work, pids)
        t0 = time.monotonic()
        time.sleep(seconds)
        frames1, cpu1 = snapshot(work, pids)
        elapsed = time.monotonic() - t0
    finally:
        proc.wait(timeout=warmup + seconds + 60)
    frames = frames1 - frames0
    return frames / elapsed, 1000 * (cpu1 - cpu0) / max(frames, 1)


def naive_throughput(frames: int) -> tuple[float, float, str | None]:
    """The tutorial loop, unpaced, into a receiver of its own: fps and CPU s / 1000 frames."""
    work = Path(tempfile.mkdtemp(prefix="au-naive-", dir="/tmp"))
    receiver = subprocess.Popen(
        [sys.executable, "-m", "receiver", "--out", str(work / "rec")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert receiver.stdout is not None
        url = receiver.stdout.readline().rsplit(" ", 1)[1].strip()  # "receiver listening on URL"
        run_loop(url, 50, pace=False, stream="warmup")
        cpu0 = cpu_s(receiver.pid)
        result = run_loop(url, frames, pace=False)
        cpu = result.cpu_s + cpu_s(receiver.pid) - cpu0
    finally:
        receiver.terminate()
        receiver.wait(timeout=30)
    return result.fps, 1000 * cpu / max(result.sent, 1), result.error


def streams_toml(k: int, senders: int) -> str:
    tables = "".join(
        f'[[streams]]\nid = "s{i}"\nsource = "tone:{300 + 10 * i}"\n' for i in range(k)
    )
    return f"senders = {senders}\n{tables}"


def carry(k: int, senders: int, seconds: float) -> dict[str, Any]:
    """K real-time streams for ``seconds``: the run's report."""
    work = Path(tempfile.mkdtemp(prefix=f"au-streams{k}-", dir="/tmp"))
    config = work / "uplink.toml"
    config.write_text(streams_toml(k, senders))
    proc = supervise(work, seconds, "--config", str(config))
    proc.wait(timeout=seconds + 120)
    report: dict[str, Any] = json.loads((work / "report.json").read_text())
    return report


def part_throughput(args: argparse.Namespace) -> None:
    print(f"{'unpaced tone, 16 kHz mono 20 ms':<36}{'frames/s':>10}{'CPU s/1000 frames':>20}")
    for n in (1, 2, 4):
        fps, cpu = throughput(n, args.warmup, args.seconds)
        print(f"{f'audio-uplink, {n} sender(s)':<36}{fps:>10.0f}{cpu:>20.3f}")
    fps, cpu, error = naive_throughput(args.naive_frames)
    note = f"  ({error})" if error else ""
    print(f"{'tutorial loop (one process)':<36}{fps:>10.0f}{cpu:>20.3f}{note}")


def within_budget(k: int, args: argparse.Namespace) -> bool:
    report = carry(k, args.stream_senders, args.stream_seconds)
    lat, frames = report["latency_ms"], report["frames"]
    lost = sum(frames["dropped"].values()) + frames["unaccounted"]
    p99 = lat["p99"] if lat["p99"] is not None else float("inf")
    print(f"{k:>8}{args.stream_senders:>9}{lat['p50']:>9}{lat['p99']:>9}{lat['max']:>9}{lost:>7}")
    return p99 <= P99_BUDGET_MS and not lost


def part_streams(args: argparse.Namespace) -> None:
    """Double K until it fails, then bisect down to a step of 2 streams."""
    print(f"{'streams':>8}{'senders':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'lost':>7}")
    best, k = 0, 1
    while k <= args.max_streams and within_budget(k, args):
        best, k = k, k * 2
    failed = k
    while failed - best > 2 and best:
        mid = (best + failed) // 2
        if within_budget(mid, args):
            best = mid
        else:
            failed = mid
    print(f"largest number of real-time streams with p99 <= {P99_BUDGET_MS:.0f} ms: {best}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("all", "throughput", "streams"), default="all")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--naive-frames", type=int, default=20000)
    parser.add_argument("--stream-seconds", type=float, default=15.0)
    parser.add_argument("--stream-senders", type=int, default=2)
    parser.add_argument("--max-streams", type=int, default=64)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    if args.part in ("all", "throughput"):
        part_throughput(args)
    if args.part in ("all", "streams"):
        part_streams(args)


if __name__ == "__main__":
    main()
