"""Frames missing at the server per fault, before the retention ring and now.

Every row runs `supervisor start` (tone, 16 kHz mono, 20 ms frames) against
testkit/fake_server.py, which logs each frame it handles, injects one fault
from outside, and counts from that log: seqs missing at the server (of the
seqs capture made), duplicates handled, and catch-up (from the server's
return until a handled frame is fresh again, < 100 ms old). `retransmitted`
and capture's CPU come from the report: CPU per captured frame before and
now, and "retention CPU", the difference at 50 frames/s (16 kHz mono) in
points of one core. One run per cell on a shared machine: read the CPU
columns as noisy.

"Before" runs the tree given with --before (e.g. `git archive 77e7e7f | tar
-x -C /tmp/old`) with the same Python; without it those columns say "-".

    python bench/zero_loss.py --before /tmp/old
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # testkit
from _children import machine

from uplink_runtime.net import free_port

REPO = Path(__file__).resolve().parent.parent
FRESH_S = 0.1
FRAME_BYTES = 640  # 20 ms of 16 kHz mono s16le
SILENT = bytes(FRAME_BYTES)


@dataclass
class Run:
    work: Path
    tree: Path
    port: int
    server: subprocess.Popen[bytes] | None = None
    proc: subprocess.Popen[bytes] | None = None

    def start_server(self, *args: str) -> None:
        cmd = [sys.executable, "-m", "testkit.fake_server", "--port", str(self.port)]
        self.server = subprocess.Popen(
            [*cmd, "--log", str(self.work / "handled.log"), *args],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # packets still in flight after --close-after: noise
        )
        assert self.server.stdout is not None
        self.server.stdout.readline()

    def start_receiver(self) -> None:
        """The tree's own `python -m receiver`, writing WAVs into work/rec, on the run's port."""
        cmd = [sys.executable, "-m", "receiver", "--port", str(self.port)]
        self.server = subprocess.Popen(
            [*cmd, "--out", str(self.work / "rec")],
            cwd=self.tree,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self.server.stdout is not None
        self.server.stdout.readline()  # "receiver listening on ...": it is up

    def kill_server(self) -> None:
        assert self.server is not None
        self.server.kill()
        self.server.wait()

    def start(self, *args: str) -> None:
        cmd = [sys.executable, "-m", "supervisor", "start", "--run-dir", str(self.work / "run")]
        cmd += ["--server", f"http://127.0.0.1:{self.port}", "--report", str(self.report_path)]
        self.proc = subprocess.Popen(
            [*cmd, *args],
            cwd=self.tree,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    @property
    def env(self) -> dict[str, str]:
        """The tree under test comes first on sys.path, before the editable install."""
        return {**os.environ, "PYTHONPATH": str(self.tree)}

    @property
    def report_path(self) -> Path:
        return self.work / "report.json"

    def pid(self, name: str) -> int:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                rows = json.loads((self.work / "run" / "status.json").read_text())["processes"]
                return int(next(r["pid"] for r in rows if r["name"] == name and r["pid"]))
            except (OSError, ValueError, StopIteration):
                time.sleep(0.1)
        raise RuntimeError(f"{name} never ran")

    def scale(self, n: int) -> None:
        cmd = [sys.executable, "-m", "supervisor", "scale", "senders", str(n)]
        env = {**os.environ, "PYTHONPATH": str(self.tree)}
        subprocess.run(
            [*cmd, "--run-dir", str(self.work / "run")], cwd=self.tree, env=env, check=True
        )

    def finish(self) -> dict[str, Any]:
        assert self.proc is not None
        self.proc.wait(timeout=180)
        if self.server and self.server.poll() is None:
            self.server.terminate()
            self.server.wait(timeout=15)
        return dict(json.loads(self.report_path.read_text()))

    def handled(self) -> list[tuple[int, float, float]]:
        rows = []
        for line in (self.work / "handled.log").read_text().splitlines():
            parts = line.split()
            rows.append((int(parts[1]), float(parts[2]), float(parts[3])))
        return rows


def fault_sender_kill(run: Run, senders: int, kills: int, every_s: float) -> float | None:
    run.start("--senders", str(senders), "--duration", str(3 + kills * every_s + 3), *run_mode(run))
    time.sleep(3)
    for i in range(kills):
        os.kill(run.pid(f"sender-{i % senders + 1}"), signal.SIGKILL)
        time.sleep(every_s)
    return None


def fault_server_away(run: Run, away_s: float, live: bool = False) -> float:
    run.start("--duration", str(3 + away_s + 6), *run_mode(run, live))
    time.sleep(3)
    run.kill_server()
    time.sleep(away_s)
    run.start_server()
    return time.time()


def fault_scale(run: Run) -> float | None:
    run.start("--duration", "12", *run_mode(run))
    time.sleep(3)
    for n in (4, 1):
        run.scale(n)
        time.sleep(3)
    return None


def fault_close(run: Run) -> float | None:
    run.kill_server()
    run.start_server("--close-after", "500")
    run.start("--no-pace", "--duration", "4", *run_mode(run))
    return None


def fault_clean_stop(run: Run) -> float | None:
    run.start("--no-pace", "--duration", "4", *run_mode(run))
    return None


def fault_none(run: Run) -> float | None:
    run.start("--duration", "20", *run_mode(run))
    return None


def sounding_frames(rec: Path) -> int:
    """Frames of tone in every WAV the receiver left (20 ms at 16 kHz mono): silence is a gap."""
    total = 0
    for path in rec.glob("*.wav"):
        with wave.open(str(path), "rb") as wav:
            audio = wav.readframes(wav.getnframes())
        frames = [audio[i : i + FRAME_BYTES] for i in range(0, len(audio), FRAME_BYTES)]
        total += sum(1 for f in frames if len(f) == FRAME_BYTES and f != SILENT)
    return total


def receiver_killed(tree: Path) -> tuple[int, int]:
    """(f) The receiver SIGKILLed 6 s into a 12 s run and started again at once, on the
    same port and directory: (frames acked, acked frames in no WAV file)."""
    with tempfile.TemporaryDirectory(prefix="au-zl-", dir="/tmp") as tmp:
        run = Run(Path(tmp), tree, free_port())
        try:
            run.start_receiver()
            run.start("--duration", "12", *run_mode(run))
            time.sleep(6)
            run.kill_server()
            run.start_receiver()
            acked = int(run.finish()["frames"]["acked"])
        finally:
            _end(run)
        return acked, max(0, acked - sounding_frames(run.work / "rec"))


def two_runs(tree: Path) -> tuple[int, int]:
    """(h) Two 5 s runs, one after the other, into one receiver: (frames acked by both,
    acked frames in no WAV file)."""
    with tempfile.TemporaryDirectory(prefix="au-zl-", dir="/tmp") as tmp:
        run = Run(Path(tmp), tree, free_port())
        acked = 0
        try:
            run.start_receiver()
            for _ in range(2):
                run.start("--duration", "5", *run_mode(run))
                assert run.proc is not None
                run.proc.wait(timeout=60)
                acked += int(json.loads(run.report_path.read_text())["frames"]["acked"])
            run.server.terminate()  # type: ignore[union-attr]
            run.server.wait(timeout=15)  # type: ignore[union-attr]
        finally:
            _end(run)
        return acked, max(0, acked - sounding_frames(run.work / "rec"))


def _end(run: Run) -> None:
    for proc in (run.proc, run.server):
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()


def receiver_rows(before: Path | None) -> None:
    """The faults whose evidence is the receiver's own WAV files."""
    print("\nwith the tree's own receiver; evidence: tone frames in its WAV files")
    head = ("acked before", "not in file", "acked now", "not in file")
    print(f"{'fault':<42}" + "".join(f"{h:>15}" for h in head))
    for name, fault in (
        ("receiver SIGKILLed at 6 s of 12, restarted", receiver_killed),
        ("two runs into one standalone receiver", two_runs),
    ):
        old = fault(before.resolve()) if before else ("-", "-")
        now = fault(REPO)
        print(f"{name:<42}" + "".join(f"{v:>15}" for v in (*old, *now)), flush=True)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def outage_rss(away_s: float) -> None:
    """RSS of capture and sender into a long outage (complete mode): 1 s in, once the
    10 s buffer is full (13 s in), and at its end."""
    with tempfile.TemporaryDirectory(prefix="au-zl-", dir="/tmp") as tmp:
        run = Run(Path(tmp), REPO, free_port())
        run.start_server()
        try:
            run.start("--duration", str(away_s + 8), *run_mode(run))
            time.sleep(3)
            run.kill_server()
            time.sleep(1)
            pids = {name: run.pid(name) for name in ("capture", "sender-1")}
            samples = [{name: rss_mb(pid) for name, pid in pids.items()}]
            time.sleep(12)
            samples.append({name: rss_mb(pid) for name, pid in pids.items()})
            time.sleep(away_s - 13)
            samples.append({name: rss_mb(pid) for name, pid in pids.items()})
            run.start_server()
            summary = summarize(run.finish(), run.handled(), None)
        finally:
            for proc in (run.proc, run.server):
                if proc and proc.poll() is None:
                    proc.kill()
                    proc.wait()
    print(f"RSS (MB) 1 s into a {away_s:g} s outage, 13 s in (buffer full), at its end")
    for name in pids:
        print(f"  {name:<10}" + " -> ".join(f"{sample[name]:.1f}" for sample in samples))
    print(f"missing at the server afterwards: {summary['missing']} (stale {summary['stale']})")


def run_mode(run: Run, live: bool = False) -> tuple[str, ...]:
    if run.tree == REPO:
        return ("--delivery", "live" if live else "complete")
    return ()


FAULTS: dict[str, Callable[[Run], float | None]] = {
    "no fault (p99 at defaults in note)": fault_none,
    "only sender SIGKILLed": lambda r: fault_sender_kill(r, 1, 1, 3),
    "3 senders, one SIGKILLed every 2 s, 20 s": lambda r: fault_sender_kill(r, 3, 10, 2),
    "scale 1 -> 4 -> 1": fault_scale,
    "server killed, back 5 s later": lambda r: fault_server_away(r, 5),
    "the same, live mode (missing = stale)": lambda r: fault_server_away(r, 5, live=True),
    "server closes the link, --no-pace": fault_close,
    "clean stop of a --no-pace run": fault_clean_stop,
}


def measure(tree: Path, fault: Callable[[Run], float | None]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="au-zl-", dir="/tmp") as tmp:
        run = Run(Path(tmp), tree, free_port())
        run.start_server()
        try:
            back = fault(run)
            report = run.finish()
        finally:
            for proc in (run.proc, run.server):
                if proc and proc.poll() is None:
                    proc.kill()
                    proc.wait()
        return summarize(report, run.handled(), back)


def summarize(
    report: dict[str, Any], rows: list[tuple[int, float, float]], back: float | None
) -> dict[str, Any]:
    frames = report["frames"]
    seqs = [seq for seq, _, _ in rows]
    catch_up = None
    if back is not None:
        fresh = [t for _, ready, t in rows if t > back and t - ready < FRESH_S]
        catch_up = round(min(fresh) - back, 2) if fresh else None
    capture = report["processes"]["capture"]
    return {
        "missing": len(set(range(frames["captured"])) - set(seqs)),
        "duplicates": len(seqs) - len(set(seqs)),
        "retransmitted": frames.get("retransmitted", "-"),
        "stale": frames["dropped"].get("stale", 0),
        "catch_up_s": catch_up,
        "capture_us": 1e6 * capture["cpu_s"] / max(1, frames["captured"]),
        "p99": report["latency_ms"]["p99"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python bench/zero_loss.py")
    parser.add_argument("--before", type=Path, help="a checkout of the code before this change")
    parser.add_argument(
        "--outage-rss", type=float, metavar="S", help="only: RSS over an S s outage"
    )
    parser.add_argument(
        "--receiver-only", action="store_true", help="only the rows with the tree's own receiver"
    )
    args = parser.parse_args()
    print(f"machine: {machine()}")
    if args.outage_rss:
        outage_rss(args.outage_rss)
        return
    if args.receiver_only:
        receiver_rows(args.before)
        return
    print("tone 16 kHz mono, 20 ms frames, fake server on loopback; now = delivery complete")
    head = (
        "fault",
        "missing before",
        "missing now",
        "dup",
        "retx",
        "stale",
        "catch-up s",
        "capture us/fr",
        "retention CPU",
    )
    print(f"{head[0]:<42}" + "".join(f"{h:>15}" for h in head[1:]))
    for name, fault in FAULTS.items():
        now = measure(REPO, fault)
        before = measure(args.before.resolve(), fault) if args.before else None
        # capture's CPU per frame, before -> now, and the difference at 50 frames/s
        # (16 kHz mono, 20 ms) in points of one core
        cpu = f"{before['capture_us']:.0f}->{now['capture_us']:.0f}" if before else "-"
        cost = f"{(now['capture_us'] - before['capture_us']) * 50 / 1e4:+.2f}" if before else "-"
        cells = (
            before["missing"] if before else "-",
            now["missing"],
            now["duplicates"],
            now["retransmitted"],
            now["stale"],
            now["catch_up_s"] if now["catch_up_s"] is not None else "-",
            cpu,
            cost,
        )
        note = f"   p99 {now['p99']} ms" if name.startswith("no fault") else ""
        print(f"{name:<42}" + "".join(f"{c!s:>15}" for c in cells) + note, flush=True)
    receiver_rows(args.before)


if __name__ == "__main__":
    main()
