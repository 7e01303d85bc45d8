"""One stream's WAV file and its sequence accounting, in constant memory."""

from __future__ import annotations

import wave
from collections import deque
from pathlib import Path

from uplink_frame import Frame, FrameError

_RECENT = 4096  # seqs remembered to tell a duplicate from a late frame


class StreamSink:
    def __init__(self, path: Path, first: Frame, max_gap_fill_s: float) -> None:
        self.path = path
        self.shape = (first.rate, first.channels, len(first.audio))
        self.silence = bytes(len(first.audio))
        self.max_gap_frames = max(0, int(max_gap_fill_s / first.duration_s))
        self.first_seq = first.seq
        self.expected = first.seq
        self.counts = dict.fromkeys(
            ("frames", "missing", "duplicates", "out_of_order", "gap_filled"), 0
        )
        self._recent: deque[int] = deque(maxlen=_RECENT)
        self._recent_set: set[int] = set()
        self._wav = wave.open(str(path), "wb")
        self._wav.setnchannels(first.channels)
        self._wav.setsampwidth(2)
        self._wav.setframerate(first.rate)

    def write(self, frame: Frame) -> None:
        """Append a frame in seq order; a gap becomes (bounded) silence, a late frame is counted."""
        if (frame.rate, frame.channels, len(frame.audio)) != self.shape:
            raise FrameError(f"stream {frame.stream} changed rate, channels or frame length")
        if frame.seq < self.expected:
            if frame.seq in self._recent_set:
                self.counts["duplicates"] += 1
            else:
                self.counts["out_of_order"] += 1
                self.counts["missing"] -= 1
                self._remember(frame.seq)
            return
        gap = frame.seq - self.expected
        if gap:
            self.counts["missing"] += gap
            fill = min(gap, self.max_gap_frames)
            self.counts["gap_filled"] += fill
            self._wav.writeframesraw(self.silence * fill)
        self._wav.writeframes(frame.audio)  # also rewrites the header: the file is always valid
        self.counts["frames"] += 1
        self.expected = frame.seq + 1
        self._remember(frame.seq)

    def _remember(self, seq: int) -> None:
        if len(self._recent) == self._recent.maxlen:
            self._recent_set.discard(self._recent[0])
        self._recent.append(seq)
        self._recent_set.add(seq)

    def close(self) -> None:
        self._wav.close()
