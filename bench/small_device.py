"""The pipeline on a small device: capture + sender + supervisor under a CPU quota.

Each row puts `supervisor start` (tone, 16 kHz mono, 20 ms frames) and so
its children in a cgroup limited to a share of one core (v2 ``cpu.max`` or
v1 ``cpu.cfs_quota_us``, period 100 ms), on one CPU (``--cpus one``, the
default: a small device's one core); the receiver runs outside it, as the
server would on another machine.

Why one CPU: CFS hands a group's quota to each CPU in slices of
``sched_cfs_bandwidth_slice_us`` (5 ms by default). At 5 % of a 100 ms period
the whole quota is one slice, so the first CPU to run takes all of it, and a
process woken on the other CPU waits for the slack timer although the group
is under its quota: an artifact of emulating a small device on a bigger one.
``--cpus all`` lets the group run on every CPU, as the first version did.

Per quota it prints capture->ack p99 latency (the report), frames lost by
the receiver's own evidence (frames capture made minus frames in the
receiver's stats.json), and start-up time (launch to the first frame in the
receiver's WAV directory), and the CPU the cgroup's processes used after
that, in % of one core. Then the lowest quota whose p99 held
``--p99-goal-ms``. Each run lasts ``--seconds`` from the first frame, then the supervisor
is stopped (its report covers it all). Root and a writable cgroup tree are
needed: otherwise it says so in one line and exits 2.

    python bench/small_device.py --seconds 30 [--cpus one|all] [--before DIR] [-- --batch-ms 40]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import _requires  # noqa: F401  (one line, not a traceback, when something is missing)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _children import add_before, machine, tree_env
from pipeline import cpu_s

PERIOD_US = 100_000
QUOTAS = (20.0, 10.0, 5.0, 3.0)
_START_TIMEOUT_S = 180.0  # 3 % of a core imports three interpreters' worth slowly
_V2, _V1 = Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/cpu")


class Quota:
    """A cgroup of its own whose processes share ``percent`` of one core."""

    def __init__(self, percent: float) -> None:
        name = f"audio-uplink-bench-{os.getpid()}"
        if (_V2 / "cgroup.controllers").exists() and "cpu" in _read(_V2 / "cgroup.controllers"):
            self.path = _V2 / name
            self.path.mkdir()
            (self.path / "cpu.max").write_text(f"{round(percent * PERIOD_US / 100)} {PERIOD_US}")
        else:
            self.path = _V1 / name
            self.path.mkdir()
            (self.path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (self.path / "cpu.cfs_quota_us").write_text(str(round(percent * PERIOD_US / 100)))

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv`` started inside the cgroup (so are its children)."""
        procs = shlex.quote(str(self.path / "cgroup.procs"))
        return ["sh", "-c", f'echo $$ > {procs} && exec "$@"', "sh", *argv]

    def cpu_s(self) -> float:
        """CPU seconds its processes have used so far."""
        total = 0.0
        for pid in _read(self.path / "cgroup.procs").split():
            with contextlib.suppress(OSError):
                total += cpu_s(int(pid))
        return total

    def throttled_s(self) -> float:
        for line in _read(self.path / "cpu.stat").splitlines():
            key, _, value = line.partition(" ")
            if key == "throttled_usec":
                return int(value) / 1e6
            if key == "throttled_time":
                return int(value) / 1e9
        return 0.0

    def remove(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                self.path.rmdir()
                return
            except OSError:  # its last process is still exiting
                time.sleep(0.1)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def refuse_unless_writable() -> None:
    try:
        Quota(50.0).remove()
    except OSError as exc:
        print(
            f"small_device: cannot make a CPU cgroup under {_V2} ({exc.strerror}): "
            "run as root where cgroup v2 cpu.max or v1 cpu.cfs_quota_us is writable",
            file=sys.stderr,
        )
        sys.exit(2)


@contextlib.contextmanager
def receiver(work: Path, tree: Path | None) -> Iterator[str]:
    """The tree's own receiver, outside every quota; yields its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "receiver", "--port", "0", "--out", str(work / "rec")],
        cwd=tree or Path.cwd(),
        env=tree_env(tree),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().rsplit(" ", 1)[1].strip()  # "receiver listening on URL"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def one_cpu() -> set[int]:
    """The last CPU this process may run on (the first often takes the interrupts)."""
    return {max(os.sched_getaffinity(0))}


def one_run(
    percent: float, seconds: float, tree: Path | None, extra: list[str], cpus: set[int] | None
) -> dict[str, float | int | None]:
    work = Path(tempfile.mkdtemp(prefix="au-small-", dir="/tmp"))
    quota = Quota(percent)
    try:
        with receiver(work, tree) as url:
            argv = [sys.executable, "-m", "supervisor", "start", "--server", url]
            argv += ["--run-dir", str(work / "run"), "--report", str(work / "report.json")]
            argv += extra
            t0 = time.monotonic()
            proc = subprocess.Popen(
                quota.wrap(argv),
                cwd=tree or Path.cwd(),
                env=tree_env(tree),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if cpus:  # before the supervisor starts its children, which inherit it
                os.sched_setaffinity(proc.pid, cpus)
            startup = first_wav(work / "rec", proc, t0, _START_TIMEOUT_S)
            used = quota.cpu_s()
            time.sleep(seconds)  # measured from the first frame: start-up is its own figure
            used = quota.cpu_s() - used
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=_START_TIMEOUT_S)
            throttled = quota.throttled_s()
        if not (work / "report.json").exists():
            sys.exit(f"small_device: the supervisor exited without a report (flags: {extra})")
        report = json.loads((work / "report.json").read_text())
        streams = json.loads((work / "rec" / "stats.json").read_text())["streams"]
        written = sum(s.get("frames", 0) for s in streams.values())
        captured = report["frames"]["captured"]
        return {
            "p99_ms": report["latency_ms"]["p99"],
            "lost": captured - written,
            "captured": captured,
            "startup_s": startup,
            "throttled_s": throttled,
            "cpu_pct": 100 * used / seconds,
            "restarts": len(report["restarts"]),
        }
    finally:
        quota.remove()


def first_wav(
    rec: Path, proc: subprocess.Popen[bytes], t0: float, timeout_s: float
) -> float | None:
    """Seconds from launch until the receiver has written audio (None: never)."""
    while proc.poll() is None and time.monotonic() - t0 < timeout_s:
        if any(p.stat().st_size > 44 for p in rec.glob("**/*.wav")):
            return time.monotonic() - t0
        time.sleep(0.02)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="each run, from its first frame"
    )
    parser.add_argument("--quotas", type=float, nargs="+", default=QUOTAS, help="%% of one core")
    parser.add_argument("--p99-goal-ms", type=float, default=50.0)
    parser.add_argument(
        "--cpus",
        choices=("one", "all"),
        default="one",
        help="run the cgroup on one CPU (a small device's core) or on all of them",
    )
    add_before(parser)
    parser.add_argument("start_args", nargs="*", help="more `supervisor start` flags, after --")
    args = parser.parse_args()
    refuse_unless_writable()
    trees: dict[str, Path | None] = {"this tree": None}
    for tree in args.before:
        trees[tree.name] = tree.resolve()
    print(f"machine: {machine()}")
    print(
        f"run: {args.seconds:.0f} s per quota, tone 16 kHz mono, 20 ms frames; capture, sender "
        "and supervisor in the cgroup, the receiver outside; flags: "
        + (" ".join(args.start_args) or "defaults")
    )
    cpus = one_cpu() if args.cpus == "one" else None
    print("cgroup on " + (f"CPU {min(cpus)} only" if cpus else "every CPU (--cpus all)"))
    head = f"{'tree':<30}{'quota %':>8}{'p99 ms':>10}{'lost':>6}{'of':>7}{'start s':>9}"
    print(head + f"{'throttled s':>13}{'CPU %':>7}{'restarts':>9}")
    for label, tree in trees.items():
        held = []
        for percent in args.quotas:
            r = one_run(percent, args.seconds, tree, args.start_args, cpus)
            start = "-" if r["startup_s"] is None else f"{r['startup_s']:.2f}"
            print(
                f"{label:<30}{percent:>8g}{r['p99_ms']!s:>10}{r['lost']:>6}{r['captured']:>7}"
                f"{start:>9}{r['throttled_s']:>13.1f}{r['cpu_pct']:>7.1f}{r['restarts']:>9}",
                flush=True,
            )
            p99 = r["p99_ms"]
            if isinstance(p99, int | float) and p99 <= args.p99_goal_ms:
                held.append(percent)
        lowest = f"{min(held):g} %" if held else "none of those run"
        print(f"{label}: lowest quota with p99 <= {args.p99_goal_ms:g} ms: {lowest}")


if __name__ == "__main__":
    main()
