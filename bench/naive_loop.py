"""The loop audio-uplink replaces: one process reads a chunk and ``sio.emit``s it, forever.

A faithful copy of the tutorial pattern (python-socketio's synchronous Client,
one emit per chunk, no ack, nothing bounded), fed by the same tone as
capture_proc and sending the same frame dicts, so it can be measured beside
audio-uplink against the same receiver. Used by bench/scale.py and
bench/naive_vs_uplink.py; runnable on its own:

    python bench/naive_loop.py --server http://127.0.0.1:PORT --frames 2000 [--no-pace]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from dataclasses import asdict, dataclass

import _requires  # noqa: F401  (one line, not a traceback, when something is missing)
import socketio

from capture_proc.sources import TONE_HZ, ToneSource
from uplink_frame import Frame

RATE, FRAME_MS = 16000, 20
SAMPLES = RATE * FRAME_MS // 1000
TONE = ToneSource(TONE_HZ, RATE, 1, SAMPLES)


@dataclass
class LoopResult:
    sent: int
    elapsed_s: float  # first emit -> the server handled the last frame (or the loop died)
    cpu_s: float  # this process, user + system, over the same span
    max_rss_mb: float
    error: str | None  # what killed the loop, as the tutorial code would have crashed

    @property
    def fps(self) -> float:
        return self.sent / self.elapsed_s if self.elapsed_s > 0 else 0.0


def frame(seq: int, stream: str, t_capture: float) -> Frame:
    audio = TONE.read(seq)
    return Frame(stream=stream, seq=seq, t_capture=t_capture, rate=RATE, channels=1, audio=audio)


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_loop(
    url: str,
    frames: int,
    *,
    pace: bool = True,
    stream: str = "naive",
    event: str = "audio_data",
    flush_timeout_s: float = 120.0,
) -> LoopResult:
    """Emit ``frames`` tone frames the tutorial way, then one ``call`` to learn when the
    server has handled them all (it handles events in order). Never raises."""
    sio = socketio.Client(reconnection=False)
    sio.connect(url, transports=["websocket"], wait_timeout=10)
    cpu0, t0 = _cpu_s(), time.monotonic()
    start_unix, sent, error = time.time(), 0, None
    try:
        for seq in range(frames):
            if pace:  # the microphone's read() would block until the chunk is there
                time.sleep(max(0.0, t0 + (seq + 1) * FRAME_MS / 1000 - time.monotonic()))
            t_capture = start_unix + seq * FRAME_MS / 1000 if pace else time.time()
            sio.emit(event, frame(seq, stream, t_capture).to_dict())
            sent += 1
        last = frame(frames, stream, time.time()).to_dict()
        sio.call(event, last, timeout=flush_timeout_s)
        sent += 1
    except Exception as exc:  # the tutorial has no handler: report what would have crashed it
        error = f"{type(exc).__name__}: {exc}"
    elapsed, cpu = time.monotonic() - t0, _cpu_s() - cpu0
    sio.disconnect()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return LoopResult(sent, elapsed, cpu, rss_mb, error)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True, help="http://HOST:PORT of a Socket.IO server")
    parser.add_argument("--frames", type=int, default=500)
    parser.add_argument("--stream", default="naive")
    parser.add_argument("--no-pace", dest="pace", action="store_false")
    args = parser.parse_args()
    result = run_loop(args.server, args.frames, pace=args.pace, stream=args.stream)
    print(json.dumps({**asdict(result), "fps": round(result.fps, 1)}))


if __name__ == "__main__":
    main()
