"""How fast the supervisor heals, and what watching costs it.

- SIGKILL of the only sender -> first acked frame from its replacement (median of --kills)
- SIGSTOP of the sender (a hang) -> replacement running, and -> its first acked frame
- the supervisor's own CPU while it watches a healthy pipeline

    python bench/recovery.py --kills 5 [--before DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _requires  # noqa: F401  (one line, not a traceback, when something is missing)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _children import add_before, machine, start_pipeline
from pipeline import cpu_s

from supervisor.ops.control import ControlError, request


def sender_pid(run_dir: Path, not_pid: int | None = None, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            rows = request(str(run_dir), {"cmd": "status"})["processes"]
        except ControlError:  # not up yet
            rows = []
        for row in rows:
            if row["name"] == "sender-1" and row["state"] == "running" and row["pid"] != not_pid:
                return int(row["pid"])
        time.sleep(0.01)
    raise SystemExit("bench: no sender came up")


def run_pipeline(
    work: Path, seconds: float, *extra: str, tree: Path | None = None
) -> subprocess.Popen[bytes]:
    return start_pipeline(work, seconds, *extra, tree=tree)


def faults(
    work: Path, kills: int, sig: int, hang_ms: int, tree: Path | None = None
) -> tuple[list[float], list[dict[str, Any]]]:
    """Inject ``sig`` into the sender ``kills`` times; (seconds until replaced, restart records)."""
    proc = run_pipeline(work, 8 + kills * 5, "--hang-timeout-ms", str(hang_ms), tree=tree)
    run_dir, replaced, injected = work / "run", [], []
    pid = sender_pid(run_dir)
    for _ in range(kills):
        time.sleep(2.0)
        injected.append(time.time())
        os.kill(pid, sig)
        new = sender_pid(run_dir, not_pid=pid)
        replaced.append(time.time() - injected[-1])
        pid = new
    time.sleep(2.0)  # let the last replacement get its first ack before stopping
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    records = json.loads((work / "report.json").read_text())["restarts"]
    for record, t in zip(records, injected, strict=False):
        if record["recovered_s"] is None:
            raise SystemExit(f"bench: replacement never acked a frame: {record}")
        record["to_first_ack_s"] = record["at_unix"] + record["recovered_s"] - t
    return replaced, records


def idle_cpu(work: Path, seconds: float) -> float:
    proc = run_pipeline(work, seconds + 10)
    sender_pid(work / "run")
    time.sleep(3)
    start = cpu_s(proc.pid)
    time.sleep(seconds)
    used = cpu_s(proc.pid) - start
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    return 100 * used / seconds


def row(label: str, value: str) -> None:
    print(f"{label:<60}{value:>14}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--hang-ms", type=int, default=2000)
    parser.add_argument("--idle-seconds", type=float, default=20)
    add_before(parser)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="au-rec-", dir="/tmp"))
    kill_s: list[float] = []
    before_s: dict[Path, list[float]] = {tree: [] for tree in args.before}
    for i in range(args.kills):  # each in a fresh pipeline: the policy's first restart
        _, records = faults(tmp / f"k{i}", 1, signal.SIGKILL, args.hang_ms)
        kill_s += [r["to_first_ack_s"] for r in records]
        for j, tree in enumerate(args.before):  # interleaved: all see the same machine load
            _, records = faults(tmp / f"b{i}-{j}", 1, signal.SIGKILL, args.hang_ms, tree.resolve())
            before_s[tree] += [r["to_first_ack_s"] for r in records]
    _, repeated = faults(tmp / "repeat", 4, signal.SIGKILL, args.hang_ms)
    hang_replaced, hung = faults(tmp / "hang", 1, signal.SIGSTOP, args.hang_ms)
    cpu = idle_cpu(tmp / "idle", args.idle_seconds)
    print(f"machine: {machine()}")
    row("figure", "value")
    row(
        "SIGKILL sender -> first ack from replacement, median s", f"{statistics.median(kill_s):.3f}"
    )
    row("  each kill, in a fresh pipeline, s", " ".join(f"{s:.2f}" for s in kill_s))
    for tree, times in before_s.items():
        row(f"  the same on {tree.name}, median s", f"{statistics.median(times):.3f}")
        row("    each kill there, s", " ".join(f"{s:.2f}" for s in times))
    row(
        "  4 kills 2 s apart (backoff doubles until 30 s healthy), s",
        " ".join(f"{r['to_first_ack_s']:.2f}" for r in repeated),
    )
    row(
        f"SIGSTOP sender -> replacement running, s (hang {args.hang_ms} ms)",
        f"{max(hang_replaced):.3f}",
    )
    row(
        "SIGSTOP sender -> first ack from replacement, s",
        f"{max(r['to_first_ack_s'] for r in hung):.3f}",
    )
    row("supervisor CPU while watching, % of one core", f"{cpu:.2f}")


if __name__ == "__main__":
    main()
