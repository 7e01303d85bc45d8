"""What scaling senders down costs: frames lost when a sender retires mid-stream.

Each run starts `supervisor start` with one sender on the real-time tone,
scales 1 -> 4 -> 2 -> 3 -> 1 (four retirements) and reads the report: frames
counted as `pipe` (ZeroMQ had queued them for a sender as it let go), any other
drop, and `unaccounted`. --parallel runs that many at once, to load the machine;
--streams K runs K tone streams (one capture each) instead of one.

    python bench/retire.py --runs 24 --parallel 2
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import _requires  # noqa: F401  (one line, not a traceback, when something is missing)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _children import machine
from recovery import run_pipeline

from supervisor.ops.control import ControlError, request

STEPS = (4, 2, 3, 1)
RETIREMENTS = 4  # 4 -> 2 retires two, 3 -> 1 two more
STEP_S = 1.5


def scale(run_dir: Path, n: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            request(str(run_dir), {"cmd": "scale", "n": n})
            return
        except ControlError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def one_run(streams: int) -> dict[str, int]:
    with tempfile.TemporaryDirectory(prefix="au-retire-", dir="/tmp") as tmp:
        work = Path(tmp)
        proc = run_pipeline(work, 3 + STEP_S * len(STEPS) + 2, *streams_config(work, streams))
        try:
            time.sleep(3)
            for n in STEPS:
                scale(work / "run", n)
                time.sleep(STEP_S)
            proc.wait(timeout=120)
        finally:
            if proc.poll() is None:  # a failed step: its children follow it (PDEATHSIG)
                proc.kill()
                proc.wait()
        frames = json.loads((work / "report.json").read_text())["frames"]
        other = sum(v for k, v in frames["dropped"].items() if k != "pipe")
        return {
            # no such drop since the retention ring (docs/delivery.md): 0 now
            "pipe": frames["dropped"].get("pipe", 0),
            "other": other,
            "unaccounted": frames["unaccounted"],
        }


def streams_config(work: Path, streams: int) -> tuple[str, ...]:
    """`supervisor start` flags for that many tone streams (one: the --source default)."""
    if streams == 1:
        return ()
    config = work / "uplink.toml"
    config.write_text(
        "".join(
            f'[[streams]]\nid = "s{k}"\nsource = "tone:{440 + 110 * k}"\n' for k in range(streams)
        )
    )
    return ("--config", str(config))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--streams", type=int, default=1)
    args = parser.parse_args()
    with ThreadPoolExecutor(args.parallel) as pool:
        results = list(pool.map(one_run, [args.streams] * args.runs))
    print(f"machine: {machine()}")
    print(
        f"{args.runs} runs of senders 1 -> 4 -> 2 -> 3 -> 1, {args.streams} stream(s), "
        f"{args.parallel} at a time, "
        f"{args.runs * RETIREMENTS} retirements"
    )
    print(f"{'frames lost as pipe':<34}{sum(r['pipe'] for r in results):>8}")
    print(f"{'runs with any pipe loss':<34}{sum(1 for r in results if r['pipe']):>8}")
    print(f"{'other drops':<34}{sum(r['other'] for r in results):>8}")
    print(f"{'unaccounted':<34}{sum(r['unaccounted'] for r in results):>8}")


if __name__ == "__main__":
    main()
