"""What watching and converting the audio costs (issue 16): one section per feature.

Sections (``--section``, default all):

- ``resample``: capture's format converter (capture_proc/convert.py) on a
  1 kHz sine, fed 20 ms at a time exactly as a device or pipe feeds it:
  CPU per stream (seconds per audio minute, % of one core), the signal
  delay against an ideal sine, how much output soxr holds back (the latency
  it adds), and THD+N, for soxr's HQ and VHQ.

- ``alarms``: the level meter's cost per frame, and each alarm's detection
  latency on a virtual microphone (bench/_alarms.py).
- ``suppression``: bytes on the wire, sender CPU and the speech correlation
  at the receiver with ``suppress_silence`` off and on, then WebRTC's VAD
  against an energy gate (bench/_silence.py; needs espeak-ng and sox).

Each section is a function ``section(args)`` that prints its tables.

    python bench/audio.py [--seconds 60] [--repeats 3] [--noise-dbfs -60] [--section resample]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _requires  # noqa: F401  (one line, not a traceback, when something is missing)
import numpy as np

from capture_proc.convert import AudioFormat, Converter, Reframer

FRAME_S = 0.02
HZ = 1000.0
Table = tuple[str, list[str], list[list[str]]]

CASES = (  # (input, stream): a USB microphone, a CD-rate file, a stereo mic at the stream rate
    (AudioFormat(48000, 2), AudioFormat(16000, 1)),
    (AudioFormat(44100, 2), AudioFormat(16000, 1)),
    (AudioFormat(48000, 1), AudioFormat(16000, 1)),
    (AudioFormat(16000, 2), AudioFormat(16000, 1)),
)


def sine_pcm(fmt: AudioFormat, seconds: float) -> bytes:
    n = np.arange(int(fmt.rate * seconds))
    x = np.round(16422 * np.sin(2 * np.pi * HZ * n / fmt.rate)).astype("<i2")  # -6 dBFS
    return np.repeat(x, fmt.channels).tobytes()


def convert(src: AudioFormat, dst: AudioFormat, pcm: bytes, quality: str) -> tuple[Any, float, int]:
    """Output samples, CPU seconds, and the most output samples ever held back."""
    converter = Converter(src, dst, quality)
    out_frame = round(dst.rate * FRAME_S)
    reframer = Reframer(out_frame * dst.block_bytes)
    step = round(src.rate * FRAME_S) * src.block_bytes
    frames: list[bytes] = []
    held = 0
    cpu0 = time.process_time()
    for i, at in enumerate(range(0, len(pcm), step)):
        frames += reframer.add(converter.push(pcm[at : at + step]))
        held = max(held, round((i + 1) * FRAME_S * dst.rate) - len(frames) * out_frame)
    cpu = time.process_time() - cpu0
    return np.frombuffer(b"".join(frames), "<i2").astype(float), cpu, held


def fit_sine(x: Any, rate: int) -> tuple[float, float]:
    """THD+N in dB and the lag in samples behind sin(2*pi*HZ*n/rate) from n = 0."""
    start = rate // 10
    y = x[start : len(x) - rate // 10]
    w = 2 * np.pi * HZ * (np.arange(len(y)) + start) / rate
    basis = np.column_stack([np.sin(w), np.cos(w), np.ones_like(w)])
    coef, *_ = np.linalg.lstsq(basis, y, rcond=None)
    residual = y - basis @ coef
    thd = 20 * np.log10(np.sqrt(np.mean(residual**2)) / np.sqrt(np.mean((basis @ coef) ** 2)))
    lag = -np.arctan2(coef[1], coef[0]) * rate / (2 * np.pi * HZ)
    return float(thd), float(lag)


def resample(args: argparse.Namespace) -> Table:
    rows = []
    for src, dst in CASES:
        pcm = sine_pcm(src, args.seconds)
        for quality in ("HQ", "VHQ") if src.rate != dst.rate else ("-",):
            x, cpu, held = convert(src, dst, pcm, "HQ" if quality == "-" else quality)
            thd, lag = fit_sine(x, dst.rate)
            rows.append(
                [
                    f"{src.rate / 1000:g}k {src.channels}ch -> "
                    f"{dst.rate / 1000:g}k {dst.channels}ch",
                    "mix only" if quality == "-" else f"soxr {quality}",
                    f"{cpu / args.seconds * 60:.3f}",
                    f"{100 * cpu / args.seconds:.2f}",
                    f"{lag / dst.rate * 1000 + 0.0:.3f}",
                    f"{held / dst.rate * 1000:.0f}",
                    f"{thd:.1f}",
                ]
            )
    header = [
        "conversion",
        "how",
        "CPU s/audio min",
        "% of a core",
        "signal delay ms",
        "held back ms",
        "THD+N dB",
    ]
    return f"Resampling and mixing, {args.seconds:g} s of a 1 kHz sine per row", header, rows


def alarms(args: argparse.Namespace) -> None:
    import _alarms  # starts PulseAudio: only when this section runs

    title = (
        f"Level alarms: the meter costs {_alarms.meter_cost_us():.1f} us per 20 ms frame "
        f"(16 kHz mono); detection latency, silence_alarm_s = {args.alarm_s:g}, "
        f"{args.repeats} rounds"
    )
    rows = _alarms.alarm_latency(args.repeats, args.alarm_s)
    print_table(title, ["alarm event", "median s", "max s"], rows)


def suppression(args: argparse.Namespace) -> None:
    import _silence  # runs espeak-ng and whole pipelines: only when this section runs

    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"bench: needs {' and '.join(missing)} (apt-get install espeak-ng sox)")
    _silence.suppression(args.noise_dbfs)
    with tempfile.TemporaryDirectory(prefix="au-bench-") as tmp:
        _silence.detectors(Path(tmp))


SECTIONS: dict[str, Callable[[argparse.Namespace], None]] = {
    "resample": lambda args: print_table(*resample(args)),
    "alarms": alarms,
    "suppression": suppression,
}


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(f"\n{title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="audio per row (default 60)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of each alarm (3)")
    parser.add_argument(
        "--alarm-s", type=float, default=2.0, help="silence_alarm_s of the alarm run, s (2)"
    )
    parser.add_argument(
        "--noise-dbfs", type=float, default=-60.0, help="suppression: noise under the speech (-60)"
    )
    parser.add_argument(
        "--section", choices=sorted(SECTIONS), action="append", help="default: every section"
    )
    args = parser.parse_args()
    print(
        f"bench/audio.py on {platform.node()}: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}"
    )
    for name in args.section or SECTIONS:
        SECTIONS[name](args)


if __name__ == "__main__":
    main()
