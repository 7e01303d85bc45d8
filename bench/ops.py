"""What security and observability cost: TLS + token vs plain, and metrics scrapes.

Three real-time runs of `supervisor start` (tone, 16 kHz mono, 20 ms frames):
plain to the embedded receiver; TLS with a token to a stand-alone receiver
serving a certificate made here; plain with --metrics scraped every second.
Prints latency from the report, sender CPU, supervisor CPU and scrape time.

    python bench/ops.py --seconds 20
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _requires  # noqa: F401  (one line, not a traceback, when something is missing)
from _children import machine, start_pipeline

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from testkit.certs import make_pki  # noqa: E402  (cryptography: a test extra)
from uplink_runtime.net import free_port  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def receiver(work: Path, *flags: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "receiver", "--out", str(work / "ext"), *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    match = re.search(r"https?://[\d.]+:(\d+)", proc.stdout.readline())
    assert match, "receiver did not start"
    return proc, match.group(1)


def run(work: Path, seconds: float, *flags: str, scrape_port: int | None = None) -> dict[str, Any]:
    """One pipeline run: its report, the supervisor's CPU % and scrape times."""
    rep = work / f"r{time.monotonic_ns()}.json"
    proc = start_pipeline(work, seconds, *flags, report=rep)
    time.sleep(3)  # interpreters started, link up
    cpu0, t0 = cpu_s(proc.pid), time.monotonic()
    scrapes: list[float] = []
    size = 0
    while proc.poll() is None and time.monotonic() - t0 < seconds - 4:
        if scrape_port:
            start = time.perf_counter()
            with urllib.request.urlopen(f"http://127.0.0.1:{scrape_port}/metrics") as r:
                size = len(r.read())
            scrapes.append(1000 * (time.perf_counter() - start))
        time.sleep(1)
    cpu = 100 * (cpu_s(proc.pid) - cpu0) / (time.monotonic() - t0)
    proc.wait(timeout=seconds + 60)
    report: dict[str, Any] = json.loads(rep.read_text())
    report["supervisor_cpu_pct"] = cpu
    report["scrape_ms"] = statistics.median(scrapes) if scrapes else None
    report["scrape_bytes"] = size
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="au-ops-", dir="/tmp"))
    os.chdir(work)
    plain = run(work, args.seconds)
    pki = make_pki(work)
    token = work / "token"
    token.write_text("bench-token-0123456789\n")
    token.chmod(0o600)
    recv, port = receiver(
        work, "--cert", str(pki.cert), "--key", str(pki.key), "--auth-token-file", str(token)
    )
    try:
        tls = run(
            work,
            args.seconds,
            "--server",
            f"https://localhost:{port}",
            "--ca-file",
            str(pki.ca),
            "--auth-token-file",
            str(token),
        )
    finally:
        recv.terminate()
        recv.wait(timeout=30)
    metrics_port = free_port()
    scraped = run(work, args.seconds, "--metrics", str(metrics_port), scrape_port=metrics_port)

    print(f"machine: {machine()}")
    print(f"runs: {args.seconds:.0f} s each, tone 16 kHz mono, 20 ms frames, loopback")
    print(f"{'figure':<44}{'plain':>10}{'tls+token':>11}{'metrics':>10}")
    rows: list[tuple[str, Callable[[dict[str, Any]], Any]]] = [
        ("capture->ack latency p50 (ms)", lambda r: r["latency_ms"]["p50"]),
        ("capture->ack latency p99 (ms)", lambda r: r["latency_ms"]["p99"]),
        ("frames acked", lambda r: r["frames"]["acked"]),
        (
            "frames unaccounted + dropped",
            lambda r: r["frames"]["unaccounted"] + sum(r["frames"]["dropped"].values()),
        ),
        (
            "sender CPU, whole run (% of one core)",
            lambda r: round(100 * r["processes"]["sender-1"]["cpu_s"] / r["duration_s"], 2),
        ),
        ("supervisor CPU (% of one core)", lambda r: round(r["supervisor_cpu_pct"], 2)),
    ]
    for label, get in rows:
        print(f"{label:<44}{get(plain)!s:>10}{get(tls)!s:>11}{get(scraped)!s:>10}")
    print(f"{'metrics scrape, median (ms)':<44}{'':>10}{'':>11}{scraped['scrape_ms']:>10.2f}")
    print(f"{'metrics page (bytes)':<44}{'':>10}{'':>11}{scraped['scrape_bytes']:>10}")


if __name__ == "__main__":
    main()
