"""Real-time pipeline cost: capture->ack latency and steady-state CPU of capture + sender.

Runs `supervisor start` on the tone source (16 kHz mono, 20 ms frames, embedded
receiver over loopback) and samples /proc CPU times of each child between
--warmup and the end, so interpreter start-up is not counted.

    python bench/pipeline.py --seconds 30

Then, for scale, python-socketio's own client emitting the same frames at the
same pace and nothing else (bench/socketio_floor.py): the floor under the
sender's share.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _requires  # noqa: F401  (one line, not a traceback, when something is missing)
from socketio_floor import floor  # bench/ is on sys.path when run as a script

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def child_pids(run_dir: Path, deadline: float) -> dict[str, int]:
    while time.monotonic() < deadline:
        try:
            rows = json.loads((run_dir / "status.json").read_text())["processes"]
            if rows and all(p["state"] == "running" for p in rows):
                return {p["name"]: p["pid"] for p in rows}
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    raise SystemExit("bench: pipeline did not start")


def machine() -> str:
    model = "unknown cpu"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument(
        "--floor-seconds",
        type=float,
        default=10.0,
        help="then time python-socketio's client alone for the same pace (0: skip)",
    )
    parser.add_argument("start_args", nargs="*", help="more `supervisor start` flags, after --")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="au-bench-", dir="/tmp"))
    run_dir, report_path = work / "run", work / "report.json"
    total = args.warmup + args.seconds + 3  # children outlive the sampling window
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "supervisor",
            "start",
            "--duration",
            str(total),
            "--run-dir",
            str(run_dir),
            "--recordings",
            str(work / "rec"),
            "--report",
            str(report_path),
            *args.start_args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pids = child_pids(run_dir, time.monotonic() + 30)
    time.sleep(args.warmup)
    start = {name: cpu_s(pid) for name, pid in pids.items()}
    time.sleep(args.seconds)
    used = {name: cpu_s(pid) - start[name] for name, pid in pids.items()}
    proc.wait(timeout=total + 60)
    report = json.loads(report_path.read_text())
    lat, frames = report["latency_ms"], report["frames"]
    print(f"machine: {machine()}")
    print(
        f"run: {args.seconds:.0f} s measured after {args.warmup:.0f} s warm-up, "
        "tone 16 kHz mono, 20 ms frames, loopback"
    )
    print(f"{'figure':<34}{'value':>12}")
    for p in ("p50", "p95", "p99", "max"):
        print(f"{'capture->ack latency ' + p + ' (ms)':<34}{lat[p]:>12}")
    for name in ("capture", "sender-1", "receiver"):
        print(f"{name + ' CPU (% of one core)':<34}{100 * used[name] / args.seconds:>12.2f}")
    both = 100 * (used["capture"] + used["sender-1"]) / args.seconds
    print(f"{'capture + sender CPU (%)':<34}{both:>12.2f}")
    print(f"{'frames captured / acked':<34}{frames['captured']:>6} / {frames['acked']}")
    print(f"{'frames unaccounted':<34}{frames['unaccounted']:>12}")
    if args.floor_seconds > 0:
        print("python-socketio's client alone, same frames and pace (bench/socketio_floor.py):")
        for mode, pct in floor(args.floor_seconds).items():
            print(f"{'  ' + mode + ' CPU (%)':<34}{pct:>12.2f}")


if __name__ == "__main__":
    main()
