"""Numbers the device's buffers by real time and hands them over through a bounded queue.

Called by PortAudio's own thread once per buffer (one frame), so it does as
little as possible and never blocks: a full queue drops the frame and counts it.
"""

from __future__ import annotations

import queue
import threading
import time

from capture_proc.sources import Captured
from uplink_frame.counters import CaptureCounter

QUEUE_S = 1.0  # audio the capture loop may fall behind by before frames are dropped
_PA_CONTINUE = 0  # pyaudio.paContinue
_PA_INPUT_OVERFLOW = 2  # pyaudio.paInputOverflow


_DEVICE_COUNTERS = (
    CaptureCounter.DEVICE_REOPEN,
    CaptureCounter.GAP_FRAMES,
    CaptureCounter.GAP_MS,
    CaptureCounter.OVERFLOW,
)


class Framer:
    def __init__(self, frame_s: float) -> None:
        self.frame_s = frame_s
        self.counters: dict[str, int] = dict.fromkeys(_DEVICE_COUNTERS, 0)
        self.last_arrival: float | None = None  # monotonic time of the newest frame
        self._queue: queue.Queue[Captured] = queue.Queue(max(1, round(QUEUE_S / frame_s)))
        self._next_index = 0
        self._resumed = False
        self._dropped = 0
        self._lock = threading.Lock()

    def __call__(
        self, data: bytes | None, samples: int, times: dict[str, float], status: int
    ) -> tuple[None, int]:
        """PortAudio's stream callback."""
        now = time.monotonic()
        if status & _PA_INPUT_OVERFLOW:
            self.counters[CaptureCounter.OVERFLOW] += 1
        if data is not None:
            self._count_gap(now)
            frame = Captured(self._next_index, time.time() - self.frame_s, data)
            self._next_index += 1
            self.last_arrival = now
            try:
                self._queue.put_nowait(frame)
            except queue.Full:
                with self._lock:
                    self._dropped += 1
        return None, _PA_CONTINUE

    def _count_gap(self, now: float) -> None:
        """The first frame after a reopen skips the indexes of the time the device was away."""
        if not self._resumed or self.last_arrival is None:
            return
        self._resumed = False
        away_s = now - self.last_arrival - self.frame_s
        gap = max(0, round(away_s / self.frame_s))
        self._next_index += gap
        self.counters[CaptureCounter.GAP_FRAMES] += gap
        self.counters[CaptureCounter.GAP_MS] += max(0, round(away_s * 1000))

    def resume(self) -> None:
        """The device was closed: the next frame comes from a new stream."""
        self._resumed = True

    def next_frame(self, timeout_s: float) -> Captured | None:
        try:
            return self._queue.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def take_dropped(self) -> int:
        """Frames dropped on a full queue since the last call."""
        with self._lock:
            dropped, self._dropped = self._dropped, 0
        return dropped
