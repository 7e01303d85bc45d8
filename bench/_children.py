"""What starting each child costs: its import time in a fresh interpreter, and the tree it runs.

``--before DIR`` in bench/pipeline.py and bench/recovery.py runs the same
figures on an earlier commit's source tree (``git archive REV | tar -x -C
DIR``) with this venv: PYTHONPATH puts DIR ahead of the editable install,
and the supervisor's children inherit it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

# What `python -m <package>` imports before its main() runs.
MODULES = {
    "capture": "capture_proc.run",
    "sender-1": "sender_proc.run",
    "receiver": "receiver.server",
}
_PROBE = "import time; t = time.perf_counter(); import {}; print(time.perf_counter() - t)"


def tree_env(tree: Path | None) -> dict[str, str]:
    """The environment that runs ``tree`` (None: this checkout)."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree), env.get("PYTHONPATH")]))
    return env


def import_s(module: str, tree: Path | None, runs: int = 5) -> tuple[float, float]:
    """Median (import of ``module``, whole interpreter start to exit) in seconds."""
    imports, walls = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _PROBE.format(module)],
            env=tree_env(tree),
            cwd=tree or Path(__file__).resolve().parent.parent,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        walls.append(time.perf_counter() - t0)
        imports.append(float(done.stdout.split()[-1]))
    return statistics.median(imports), statistics.median(walls)
