"""The floor under the sender's CPU: python-socketio's own client, nothing else.

Emits the same frames as the pipeline (16 kHz mono, 20 ms, PCM as a binary
attachment) at the same real-time pace to a stand-alone reference receiver,
one emit per frame, with or without an ack, and reports the client process's
CPU. Whatever the sender costs beyond the "acked" row is audio-uplink's own.

    python bench/socketio_floor.py --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _requires  # noqa: F401  (one line, not a traceback, when something is missing)
import socketio

from uplink_frame import Frame

FRAME_S = 0.02
MODES = ("idle", "no ack", "acked")


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(url: str, mode: str, seconds: float) -> float:
    """% of one core the client used emitting one frame per 20 ms for `seconds`."""
    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(url, transports=["websocket"], wait_timeout=10)
    audio = bytes(640)
    acked = 0

    def on_ack(*_: object) -> None:
        nonlocal acked
        acked += 1

    try:
        await asyncio.sleep(1)  # connection set-up is not the steady state
        start_cpu, start = cpu_s(), time.monotonic()
        n = 0
        while time.monotonic() - start < seconds:
            if mode != "idle":
                frame = Frame("floor", n, time.time(), 16000, 1, audio)
                callback = on_ack if mode == "acked" else None
                await sio.emit("audio_data", frame.to_dict(), callback=callback)
            n += 1
            await asyncio.sleep(max(0.0, start + n * FRAME_S - time.monotonic()))
        used = cpu_s() - start_cpu
        elapsed = time.monotonic() - start
    finally:
        await sio.disconnect()
    if mode == "acked" and acked < n - 10:
        raise SystemExit(f"bench: only {acked} of {n} emits acked")
    return 100 * used / elapsed


def start_receiver(out: Path) -> tuple[str, subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "receiver", "--port", "0", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"http://[\d.]+:\d+", line)
    if not match:
        proc.kill()
        raise SystemExit(f"bench: receiver did not announce its port: {line!r}")
    return match.group(0), proc


def floor(seconds: float) -> dict[str, float]:
    """CPU % per mode, each in a fresh client process so one cannot warm the next."""
    with tempfile.TemporaryDirectory(prefix="au-floor-", dir="/tmp") as work:
        url, receiver = start_receiver(Path(work) / "rec")
        try:
            result = {}
            for mode in MODES:
                one = ["--one", mode, "--url", url, "--seconds", str(seconds)]
                out = subprocess.run(
                    [sys.executable, __file__, *one],
                    capture_output=True,
                    text=True,
                    timeout=seconds + 60,
                    check=True,
                )
                result[mode] = float(out.stdout.strip())
            return result
        finally:
            receiver.terminate()
            receiver.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--one", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(f"{asyncio.run(measure(args.url, args.one, args.seconds)):.3f}")
        return
    print(f"python-socketio client alone, one emit per 20 ms frame, {args.seconds:.0f} s each")
    for mode, pct in floor(args.seconds).items():
        print(f"{'  ' + mode + ' (% of one core)':<34}{pct:>12.2f}")


if __name__ == "__main__":
    main()
