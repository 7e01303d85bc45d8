"""CPU per frame of the receiver's file side (receiver/sink.py), with no network.

Writes --frames frames of 16 kHz mono 20 ms PCM through one stream epoch's
sink into a temp directory: in order, with neighbours swapped (two senders),
and each sent twice (a redelivery), and prints microseconds of process time
per frame. The whole receiver's CPU is in bench/pipeline.py.

    python bench/receiver_sink.py --frames 50000
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from receiver.budget import DiskBudget
from receiver.sink import SinkLimits, StreamSink
from uplink_frame import Frame

AUDIO = bytes(range(256)) * 2 + bytes(128)  # 640 B


def frame(seq: int) -> Frame:
    return Frame("bench", seq, 1_700_000_000.0, 16000, 1, AUDIO, epoch=1)


def orders(n: int) -> dict[str, Iterable[int]]:
    swapped = (seq ^ 1 for seq in range(n))
    twice = (seq // 2 for seq in range(2 * n))
    return {"in order": range(n), "neighbours swapped": swapped, "each twice": twice}


def run(seqs: Iterable[int]) -> tuple[float, int]:
    """(process seconds, frames handled)."""
    with tempfile.TemporaryDirectory() as tmp:
        sink = StreamSink(Path(tmp), frame(0), SinkLimits(), DiskBudget(1 << 40, 1 << 40))
        frames = [frame(seq) for seq in seqs]
        start = time.process_time()
        for f in frames:
            sink.write(f, 0.0)
        sink.close()
        return time.process_time() - start, len(frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=50000)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(f"{'order':<22}{'frames':>10}{'us/frame':>10}{'% core at 50/s':>16}")
    for name, seqs in orders(args.frames).items():
        seconds, n = run(seqs)
        us = 1e6 * seconds / n
        print(f"{name:<22}{n:>10}{us:>10.1f}{us * 50 / 1e4:>16.3f}")


if __name__ == "__main__":
    main()
