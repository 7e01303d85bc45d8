"""The tutorial loop and audio-uplink side by side behind slow, stalled and restarting servers.

Each scenario starts one fake server (testkit/fake_server.py: a real
python-socketio server that logs when its handler saw each frame), then the
tutorial loop (bench/naive_loop.py, in its own process, stream ``naive``) and
audio-uplink (``supervisor start --server``, stream ``main``) against it at
the same time, injects the fault, and prints per client: frames delivered,
capture->handler latency of delivered frames, frames lost and counted, frames
lost silently, and RSS (the loop's process; audio-uplink's sender, and its
capture in the note) 3 s in and at the end.

    python bench/naive_vs_uplink.py [--seconds 30] [--only slow]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import queue
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import _requires  # noqa: F401  (one line, not a traceback, when something is missing)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # testkit.fake_server
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _children import machine
from naive_loop import FRAME_MS, run_loop

from supervisor.ops.control import ControlError, request
from testkit.fake_server import read_log
from uplink_runtime.net import free_port

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Scenario:
    name: str
    handle_ms: int  # the server's time per frame
    fault: str | None  # "stop" (SIGSTOP) or "kill" (SIGKILL, then a new server)
    fault_at_s: float = 0.0
    fault_for_s: float = 0.0


SCENARIOS = (
    Scenario("slow (1 frame/100 ms)", 100, None),
    Scenario("stalled (SIGSTOP 30 s)", 0, "stop", 5.0, 30.0),
    Scenario("restarting (killed, back 5 s later)", 0, "kill", 8.0, 5.0),
)


def _rss_mb(pid: int | None) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, TypeError):
        pass
    return None


def _child_pid(run_dir: Path, name: str) -> int | None:
    try:
        rows = request(str(run_dir), {"cmd": "status"})["processes"]
    except ControlError:
        return None
    return next((int(r["pid"]) for r in rows if r["name"] == name), None)


def _loop_child(url: str, frames: int, out: Any) -> None:
    out.put(asdict(run_loop(url, frames, flush_timeout_s=3.0)))


class Server:
    def __init__(self, work: Path, handle_ms: int) -> None:
        self.port, self.log, self.handle_ms = free_port(), work / "handled.log", handle_ms
        self.url = f"http://127.0.0.1:{self.port}"
        self.start()

    def start(self) -> None:
        args = [
            "--port",
            str(self.port),
            "--log",
            str(self.log),
            "--handle-ms",
            str(self.handle_ms),
        ]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "testkit.fake_server", *args], cwd=REPO, stdout=subprocess.PIPE
        )
        assert self.proc.stdout is not None
        self.proc.stdout.readline()

    def stop(self) -> None:
        self.proc.kill()  # its log is written line by line; a slow server would take minutes
        self.proc.wait(timeout=10)


def run(scenario: Scenario, seconds: float) -> list[dict[str, Any]]:
    work = Path(tempfile.mkdtemp(prefix="au-nvu-", dir="/tmp"))
    server = Server(work, scenario.handle_ms)
    results: Any = multiprocessing.Queue()
    frames = int(seconds * 1000 / FRAME_MS)
    loop = multiprocessing.Process(target=_loop_child, args=(server.url, frames, results))
    uplink = subprocess.Popen(
        [
            *(sys.executable, "-m", "supervisor", "start", "--server", server.url),
            *("--duration", str(seconds), "--run-dir", str(work / "run")),
            *("--report", str(work / "report.json")),
        ],
        stdout=subprocess.DEVNULL,
        stderr=(work / "uplink.err").open("w"),
    )
    loop.start()
    rss: dict[str, list[float | None]] = {"naive": [], "main": [], "capture": []}
    sampler = threading.Thread(target=_sample, args=(rss, loop.pid, work / "run", seconds))
    sampler.start()
    _inject(scenario, server)
    uplink.wait(timeout=seconds + 120)
    try:  # read before join: a child with queued data does not exit until it is read
        loop_result = results.get(timeout=seconds + 60)
    except queue.Empty:
        loop_result = None  # it died (its traceback is on stderr) or never finished
    loop.join(10)
    if loop.is_alive():
        loop.kill()
    sampler.join()
    server.stop()
    report = json.loads((work / "report.json").read_text())
    handled = read_log(server.log)
    return [
        _naive_row(loop_result, handled, rss["naive"]),
        _uplink_row(report, handled, rss["main"], rss["capture"]),
    ]


def _inject(scenario: Scenario, server: Server) -> None:
    if scenario.fault is None:
        return
    time.sleep(scenario.fault_at_s)
    if scenario.fault == "stop":
        server.proc.send_signal(signal.SIGSTOP)
        time.sleep(scenario.fault_for_s)
        server.proc.send_signal(signal.SIGCONT)
    else:
        server.proc.kill()
        server.proc.wait()
        time.sleep(scenario.fault_for_s)
        server.start()


def _sample(
    rss: dict[str, list[float | None]], loop_pid: int, run_dir: Path, seconds: float
) -> None:
    t0 = time.monotonic()
    for at in (3.0, seconds - 0.5):
        time.sleep(max(0.0, t0 + at - time.monotonic()))
        rss["naive"].append(_rss_mb(loop_pid))
        rss["main"].append(_rss_mb(_child_pid(run_dir, "sender-1")))
        rss["capture"].append(_rss_mb(_child_pid(run_dir, "capture")))


def _latencies(handled: list[tuple[str, int, float, float]], stream: str) -> dict[int, float]:
    first: dict[int, float] = {}
    for name, seq, ready, at in handled:
        if name == stream:
            first.setdefault(seq, (at - ready) * 1000)
    return first


def _row(
    client: str, lat: dict[int, float], counted: int, silent: int, rss: list[Any]
) -> dict[str, Any]:
    ms = sorted(lat.values())
    pct = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return {
        "client": client,
        "delivered": len(ms),
        "p50_ms": pct[49] if ms else None,
        "p99_ms": pct[98] if ms else None,
        "max_ms": ms[-1] if ms else None,
        "lost_counted": counted,
        "lost_silently": silent,
        "rss_mb": rss,
    }


def _naive_row(result: dict[str, Any] | None, handled: Any, rss: list[Any]) -> dict[str, Any]:
    lat = _latencies(handled, "naive")
    sent = result["sent"] if result else 0
    row = _row("tutorial loop", lat, 0, max(0, sent - len(lat)), rss)
    row["note"] = (result or {}).get("error") or ""
    return row


def _uplink_row(
    report: dict[str, Any], handled: Any, rss: list[Any], capture_rss: list[Any]
) -> dict[str, Any]:
    f = report["frames"]
    row = _row(
        "audio-uplink",
        _latencies(handled, "main"),
        sum(f["dropped"].values()),
        max(0, f["unaccounted"]),
        rss,
    )
    row["note"] = (
        f"captured {f['captured']}, acked {f['acked']}, stalls {f['stalls']}, "
        f"capture RSS {_fmt(capture_rss)}"
    )
    return row


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.0f}" if value >= 100 else f"{value:.1f}"
    if isinstance(value, list):
        return " -> ".join(_fmt(v) for v in value)
    return str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each run")
    parser.add_argument("--only", help="run the scenarios whose name starts with this")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"tone 16 kHz mono, {FRAME_MS} ms frames, {args.seconds:.0f} s per scenario, loopback")
    cols = (
        "client",
        "delivered",
        "p50_ms",
        "p99_ms",
        "max_ms",
        "lost_counted",
        "lost_silently",
        "rss_mb",
        "note",
    )
    for scenario in SCENARIOS:
        if args.only and not scenario.name.startswith(args.only):
            continue
        seconds = max(args.seconds, scenario.fault_at_s + scenario.fault_for_s + 10)
        print(f"\n{scenario.name}, {seconds:.0f} s")
        print("  ".join(f"{c:>13}" for c in cols[:-1]), " note")
        for row in run(scenario, seconds):
            print("  ".join(f"{_fmt(row[c]):>13}" for c in cols[:-1]), "", row["note"])


if __name__ == "__main__":
    main()
