"""One stream's WAV file, written in seq order through a reorder buffer bounded in time.

Several senders deliver one stream's frames in parallel, so frame 101 may
arrive before 100. A frame waits in ``held`` until every earlier seq has
been written, or until the oldest held frame has waited ``reorder_s``: then
the gap is final, filled (bounded) and counted ``missing``: with silence, or
for an Opus stream with Opus's packet-loss concealment, counted ``concealed``.
A frame arriving after its gap was closed is counted ``late`` and dropped;
the file never goes back in time.
"""

from __future__ import annotations

import wave
from collections import deque
from pathlib import Path

from uplink_frame import Frame, FrameError
from uplink_frame.codec import decoder_for

_RECENT = 4096  # seqs remembered to tell a duplicate from a late frame
_MAX_HELD = 2048  # hard bound on held frames, whatever reorder_s says


class StreamSink:
    def __init__(self, path: Path, first: Frame, max_gap_fill_s: float, reorder_s: float) -> None:
        self.path = path
        self.shape = (first.rate, first.channels, first.samples, first.codec)
        self.max_gap_frames = max(0, int(max_gap_fill_s / first.duration_s))
        self.reorder_s = reorder_s
        self.max_held = min(_MAX_HELD, max(8, int(4 * reorder_s / first.duration_s)))
        self.first_seq: int | None = None
        self.expected: int | None = None  # next seq to write; None until the start is known
        self.held: dict[int, tuple[Frame, float]] = {}
        kinds = ("frames", "missing", "duplicates", "out_of_order", "late", "gap_filled")
        self.counts = dict.fromkeys((*kinds, "audio_bytes"), 0)
        self.decoder = decoder_for(first, self.counts)
        self._recent: deque[int] = deque(maxlen=_RECENT)
        self._recent_set: set[int] = set()
        self._wav = wave.open(str(path), "wb")
        self._wav.setnchannels(first.channels)
        self._wav.setsampwidth(2)
        self._wav.setframerate(first.rate)

    def write(self, frame: Frame, now: float) -> None:
        """Accept a frame; it reaches the file as soon as its turn comes."""
        if (frame.rate, frame.channels, frame.samples, frame.codec) != self.shape:
            raise FrameError(f"stream {frame.stream} changed rate, channels, codec or frame length")
        if frame.seq in self._recent_set or frame.seq in self.held:
            self.counts["duplicates"] += 1
        elif self.expected is not None and frame.seq < self.expected:
            self.counts["late"] += 1
            self._remember(frame.seq)
        else:
            if self.held and frame.seq < max(self.held):
                self.counts["out_of_order"] += 1
            self.held[frame.seq] = (frame, now)
            self.counts["audio_bytes"] += len(frame.audio)
        self.flush(now)

    def flush(self, now: float, final: bool = False) -> None:
        """Write what is in order; close gaps that waited ``reorder_s`` (all gaps if final)."""
        while self.held:
            if self.expected is None:
                if not (final or min(self.held) == 0 or self._waited(now)):
                    return
                self.expected = self.first_seq = min(self.held)
            if self.expected not in self.held:
                if not (final or self._waited(now) or len(self.held) > self.max_held):
                    return
                self._fill_gap(min(self.held) - self.expected)
            frame, _ = self.held.pop(self.expected)
            # writeframes also rewrites the header: always a valid file
            self._wav.writeframes(self.decoder.pcm(frame))
            self.counts["frames"] += 1
            self._remember(frame.seq)
            self.expected = frame.seq + 1

    def _waited(self, now: float) -> bool:
        return now - min(arrived for _, arrived in self.held.values()) >= self.reorder_s

    def _fill_gap(self, gap: int) -> None:
        assert self.expected is not None
        self.counts["missing"] += gap
        fill = min(gap, self.max_gap_frames)
        self.counts["gap_filled"] += fill
        self._wav.writeframesraw(self.decoder.conceal(fill))
        self.expected += gap

    @property
    def next_seq(self) -> int | None:
        return self.expected

    def _remember(self, seq: int) -> None:
        if len(self._recent) == self._recent.maxlen:
            self._recent_set.discard(self._recent[0])
        self._recent.append(seq)
        self._recent_set.add(seq)

    def close(self) -> None:
        self.flush(0.0, final=True)
        self._wav.close()
