"""What starting each child costs, how a bench starts a pipeline, and how it runs an earlier tree.

``--before DIR`` in bench/pipeline.py, recovery.py and small_device.py runs
the same figures on an earlier commit's source tree (``git archive REV | tar
-x -C DIR``) with this venv: PYTHONPATH puts DIR ahead of the editable
install, and the supervisor's children inherit it.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Each child's package, started as the supervisor starts it: `python -m PACKAGE`.
PACKAGES = {"capture": "capture_proc", "sender-1": "sender_proc", "receiver": "receiver"}


def machine() -> str:
    """The CPU model, core count and Python version, for every bench's header."""
    model = "unknown cpu"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def start_pipeline(
    work: Path, seconds: float, *flags: str, report: Path | None = None, tree: Path | None = None
) -> subprocess.Popen[bytes]:
    """`supervisor start --duration SECONDS` on the embedded defaults, its files in ``work``.

    The run directory is ``work/run``, the WAVs ``work/rec``, the report
    ``report`` (default ``work/report.json``); ``tree`` runs an earlier commit.
    """
    argv = [sys.executable, "-m", "supervisor", "start", "--duration", str(seconds)]
    argv += ["--run-dir", str(work / "run"), "--recordings", str(work / "rec")]
    argv += ["--report", str(report or work / "report.json"), *flags]
    return subprocess.Popen(
        argv,
        env=tree_env(tree),
        cwd=tree or Path.cwd(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def add_before(parser: argparse.ArgumentParser) -> None:
    """``--before DIR`` (repeatable): the same figures for an earlier commit's tree."""
    parser.add_argument(
        "--before",
        type=Path,
        action="append",
        default=[],
        help="also run an earlier commit's tree (git archive REV | tar -x -C DIR), same venv; "
        "may be given more than once",
    )


def tree_env(tree: Path | None) -> dict[str, str]:
    """The environment that runs ``tree`` (None: this checkout)."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree), env.get("PYTHONPATH")]))
    return env


def start_ms(package: str, tree: Path | None) -> tuple[float, float]:
    """One `python -X importtime -m PACKAGE --help`: (its imports, start to exit) in ms.

    --help exits right after the imports; the imports are the sum of the
    top-level entries -X importtime reports (site's included, as a child pays them).
    """
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", package, "--help"],
        env=tree_env(tree),
        cwd=tree or REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    wall = 1000 * (time.perf_counter() - t0)
    top = [
        int(line.split("|")[1])
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
        and not line.split("|")[2].startswith("  ")
        and line.split("|")[1].strip().isdigit()
    ]
    return sum(top) / 1000, wall


def start_figures(trees: list[Path | None], runs: int = 5) -> list[dict[str, str]]:
    """Per tree, each child's median import and start times; trees interleaved, same load."""
    samples: list[dict[str, list[tuple[float, float]]]] = [
        {name: [] for name in PACKAGES} for _ in trees
    ]
    for _ in range(runs):
        for i, tree in enumerate(trees):
            for name, package in PACKAGES.items():
                samples[i][name].append(start_ms(package, tree))
    columns = []
    for per_child in samples:
        rows = {}
        for name, pairs in per_child.items():
            rows[f"{name} imports (ms, -X importtime)"] = (
                f"{statistics.median(p[0] for p in pairs):.0f}"
            )
            rows[f"{name} start to exit, --help (ms)"] = (
                f"{statistics.median(p[1] for p in pairs):.0f}"
            )
        columns.append(rows)
    return columns
