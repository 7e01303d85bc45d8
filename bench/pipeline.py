"""Real-time pipeline cost: capture->ack latency and steady-state CPU of each process.

Runs `supervisor start` on the tone source (16 kHz mono, 20 ms frames, embedded
receiver over loopback) and samples /proc CPU times of each child and of the
supervisor itself between --warmup and the end, so interpreter start-up is not
counted.

    python bench/pipeline.py --seconds 30 [--before DIR]

It also prints each child's RSS (its own heartbeat, at the end of the
window) and import time (bench/_children.py).

Then, for scale, python-socketio's own client emitting the same frames at the
same pace and nothing else (bench/socketio_floor.py): the floor under the
sender's share.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import _requires  # noqa: F401  (one line, not a traceback, when something is missing)
from _children import (
    PACKAGES,
    add_before,
    machine,
    start_figures,
    start_pipeline,
)  # bench/ is on sys.path when run as a script
from socketio_floor import floor

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


def run(tree: Path | None, args: argparse.Namespace) -> dict[str, str]:
    """One supervised run of ``tree`` (None: this checkout); its figures, formatted."""
    work = Path(tempfile.mkdtemp(prefix="au-bench-", dir="/tmp"))
    run_dir, report_path = work / "run", work / "report.json"
    total = args.warmup + args.seconds + 3  # children outlive the sampling window
    proc = start_pipeline(work, total, *args.start_args, report=report_path, tree=tree)
    pids = child_pids(run_dir, time.monotonic() + 30)
    time.sleep(args.warmup)
    pids["supervisor"] = proc.pid  # `python -m supervisor` itself: no shell in between
    start = {name: cpu_s(pid) for name, pid in pids.items()}
    time.sleep(args.seconds)
    used = {name: cpu_s(pid) - start[name] for name, pid in pids.items()}
    rss = {
        p["name"]: p["rss_mb"]
        for p in json.loads((run_dir / "status.json").read_text())["processes"]
    }
    proc.wait(timeout=total + 60)
    report = json.loads(report_path.read_text())
    lat, frames = report["latency_ms"], report["frames"]
    rows = {f"capture->ack latency {p} (ms)": f"{lat[p]}" for p in ("p50", "p95", "p99", "max")}
    for name in ("capture", "sender-1", "supervisor", "receiver"):
        rows[f"{name} CPU (% of one core)"] = f"{100 * used[name] / args.seconds:.2f}"
    both = 100 * (used["capture"] + used["sender-1"]) / args.seconds
    rows["capture + sender CPU (%)"] = f"{both:.2f}"
    on_device = 100 * (used["capture"] + used["sender-1"] + used["supervisor"]) / args.seconds
    rows["capture + sender + supervisor CPU (%)"] = f"{on_device:.2f}"
    rows["frames captured / acked"] = f"{frames['captured']} / {frames['acked']}"
    rows["frames unaccounted"] = f"{frames['unaccounted']}"
    for name in PACKAGES:
        rows[f"{name} RSS (MiB, heartbeat)"] = f"{rss[name]:.1f}"
    return rows


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
    add_before(parser)
    parser.add_argument("start_args", nargs="*", help="more `supervisor start` flags, after --")
    args = parser.parse_args()
    trees: list[Path | None] = [None, *(tree.resolve() for tree in args.before)]
    names = ["this tree", *(tree.name for tree in args.before)]
    columns = {name: run(tree, args) for name, tree in zip(names, trees, strict=True)}
    for name, starts in zip(names, start_figures(trees), strict=True):
        columns[name].update(starts)
    print(f"machine: {machine()}")
    print(
        f"run: {args.seconds:.0f} s measured after {args.warmup:.0f} s warm-up, "
        "tone 16 kHz mono, 20 ms frames, loopback; start-up: median of 5 per tree, interleaved"
    )
    print(f"{'figure':<42}" + "".join(f"{name:>16}" for name in columns))
    for figure in columns["this tree"]:
        print(f"{figure:<42}" + "".join(f"{col[figure]:>16}" for col in columns.values()))
    if args.floor_seconds > 0:
        print("python-socketio's client alone, same frames and pace (bench/socketio_floor.py):")
        for mode, pct in floor(args.floor_seconds).items():
            print(f"{'  ' + mode + ' CPU (%)':<42}{pct:>16.2f}")


if __name__ == "__main__":
    main()
