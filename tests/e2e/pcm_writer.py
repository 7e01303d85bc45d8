"""A live producer of raw PCM, as arecord is: 48 kHz stereo s16le 1 kHz sine, in real time.

``python -m tests.e2e.pcm_writer OUT SECONDS``: OUT is a path (a FIFO) or -
(stdout). Writes 20 ms at a time on a real-time schedule and exits 0 once
all is written; a broken pipe exits 1 (the test checks it never happens).
"""

from __future__ import annotations

import sys
import time

from tests.capture_proc.tonecheck import sine

RATE, CHANNELS, CHUNK_S = 48000, 2, 0.02


def main(out: str, seconds: float) -> int:
    pcm = sine(1000.0, RATE, seconds, CHANNELS)
    step = round(RATE * CHUNK_S) * CHANNELS * 2
    sink = open(1 if out == "-" else out, "wb", buffering=0, closefd=out != "-")
    start = time.monotonic()
    try:
        for i, at in enumerate(range(0, len(pcm), step)):
            time.sleep(max(0.0, start + i * CHUNK_S - time.monotonic()))
            sink.write(pcm[at : at + step])
    except BrokenPipeError:
        return 1
    finally:
        sink.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], float(sys.argv[2])))
