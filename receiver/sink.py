"""One stream epoch's recording: each frame written in place, once, before it is acked.

A frame's identity is ``(stream, epoch, seq)``; one sink holds one
``(stream, epoch)``. Its segments are WAV files where seq ``s`` lives at a
fixed place, ``(s - first_seq)`` frames into the data, so a frame is written
the moment it arrives, whatever its order: one that overtook an earlier seq
leaves a hole (silence, or Opus concealment) that the earlier one fills when
it comes. Nothing waits in memory, so the ack that follows the write means
the audio is in the file.

A frame is a ``duplicate`` (counted, not written) when its seq is already
in a segment: one of this sink's, or one a killed receiver left for this
epoch. A frame goes to the open segment it fits: within the segment's
size limit and at most ``max_gap`` frames past its end (bounded gap fill).
One that fits none opens a new segment, so an outlier seq (even 10**12)
gets a file of its own and the frames after it carry on where they were.

With ``rewrite`` (the Redis consumer, receiver/consume.py) the sink
carries on in the epoch's newest segment on disk, and a seq already in an
open segment is written again at its place (``rewritten``), not skipped:
the consumer's unacked entries after a restart may or may not have been
written, and either way they end up in the file once.

A silence run (format v3, ``suppress_silence``) is written as silence at
each of its seqs, each seq on its own as above, so the file keeps the
timeline; ``silent`` counts those seqs, and every count is in seqs.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from receiver.budget import DiskBudget
from receiver.runs import Runs
from receiver.segments import create_segment, newest_of_epoch, written_before
from receiver.wavfile import MAX_DATA_BYTES, SegmentMeta, WavWriter
from uplink_frame import Frame, FrameError
from uplink_frame.codec import OpusDecoder, PcmDecoder, decoder_for

logger = logging.getLogger(__name__)
MAX_OPEN = 4  # open segments per stream epoch; the least recently written is closed
_PAST = 64  # closed segments remembered to recognise duplicates
_HEADER_BYTES = 128  # charged to the disk budget per segment


@dataclass(frozen=True)
class SinkLimits:
    """What one frame may make the receiver write, and how big a file may grow."""

    max_gap_fill_s: float = 10.0
    max_gap_fill_bytes: int = 4 << 20
    max_segment_bytes: int = 4_000_000_000  # under the WAV format's 4 GiB

    def gap_frames(self, frame_bytes: int, duration_s: float) -> int:
        by_time = int(self.max_gap_fill_s / duration_s)
        return max(0, min(by_time, self.max_gap_fill_bytes // frame_bytes))


class Segment:
    def __init__(
        self, writer: WavWriter, base: int, frame_bytes: int, decoder: PcmDecoder | OpusDecoder
    ) -> None:
        self.writer, self.base, self.end = writer, base, base
        self.frame_bytes = frame_bytes
        self.decoder = decoder  # in seq order; a hole is filled with a fresh one
        self.written = Runs()
        self.last_write = 0.0

    def accepts(self, seq: int, max_gap: int, max_bytes: int) -> bool:
        fits = (seq - self.base + 1) * self.frame_bytes <= max_bytes
        return self.base <= seq <= self.end + max_gap and fits

    def put(self, seq: int, pcm: bytes) -> None:
        self.writer.write_at((seq - self.base) * self.frame_bytes, pcm)
        if seq not in self.written:
            self.written.add(seq)
        self.end = max(self.end, seq + 1)

    @property
    def holes(self) -> int:
        return self.end - self.base - self.written.count


class StreamSink:
    def __init__(
        self,
        out_dir: Path,
        first: Frame,
        limits: SinkLimits,
        budget: DiskBudget,
        rewrite: bool = False,
    ) -> None:
        self.out_dir, self.stream, self.epoch = out_dir, first.stream, first.epoch
        self.rewrite = rewrite
        self.shape = (first.rate, first.channels, first.samples, first.codec)
        self.frame_bytes = first.samples * first.channels * 2
        self._silence = bytes(self.frame_bytes)
        self.max_gap = limits.gap_frames(self.frame_bytes, first.duration_s)
        self.limits, self.budget = limits, budget
        kinds: tuple[str, ...] = ("frames", "duplicates", "out_of_order", "gap_filled")
        kinds += ("segments", "audio_bytes", "silent", *(("rewritten",) if rewrite else ()))
        self.counts = dict.fromkeys(kinds, 0)
        self._first = first  # the shape every segment's decoder is made for
        self._decoder(first)  # FrameError now if this receiver cannot decode the codec
        self.open: list[Segment] = []
        self.past: deque[Runs] = deque(maxlen=_PAST)
        self.closed_missing = 0
        self.first_seq: int | None = None
        self.last_write = 0.0
        if rewrite:
            self._resume()
            return
        for meta in written_before(out_dir, self.stream, self.epoch):
            held = meta.data_bytes // self.frame_bytes
            self.past.append(Runs(meta.first_seq, meta.first_seq + held))

    def _resume(self) -> None:
        """Carry on in the epoch's newest segment: it is opened again, not copied."""
        found = newest_of_epoch(self.out_dir, self.stream, self.epoch)
        writer = WavWriter.reopen(found[0]) if found else None
        if found is None or writer is None:
            return
        meta = found[1]
        held = meta.data_bytes // self.frame_bytes
        segment = Segment(writer, meta.first_seq, self.frame_bytes, self._decoder(self._first))
        segment.written = Runs(meta.first_seq, meta.first_seq + held)
        segment.end = meta.first_seq + held
        self.open.append(segment)
        self.first_seq = meta.first_seq

    def write(self, frame: Frame, now: float) -> None:
        """Write the frame unless it is already in a segment; returns once it is in the file."""
        if (frame.rate, frame.channels, frame.samples, frame.codec) != self.shape:
            raise FrameError(f"stream {frame.stream} changed rate, channels, codec or frame length")
        self.last_write = now
        if not frame.silent:
            if self._put(frame.seq, frame, now):
                self.counts["audio_bytes"] += len(frame.audio)
            return
        for seq in range(frame.seq, frame.seq + frame.silent):
            self.counts["silent"] += self._put(seq, None, now)

    def _put(self, seq: int, frame: Frame | None, now: float) -> bool:
        """Write one seq (None: silence) unless it is already in a segment (or ``rewrite``)."""
        in_open = any(seq in g.written for g in self.open)
        if (in_open and not self.rewrite) or any(seq in r for r in self.past):
            self.counts["duplicates"] += 1
            return False
        segment = self._segment_for(seq)
        segment.last_write = now
        if seq < segment.end:  # fills a hole (an earlier seq that was overtaken), or rewrite
            self.counts["rewritten" if in_open else "out_of_order"] += 1
            segment.put(seq, self._decoder(frame).pcm(frame) if frame else self._silence)
        else:
            self.budget.charge(self.stream, (seq + 1 - segment.end) * self.frame_bytes)
            self._fill(segment, seq - segment.end)
            segment.put(seq, segment.decoder.pcm(frame) if frame else self._silence)
        self.counts["frames"] += 1
        return True

    def _fill(self, segment: Segment, gap: int) -> None:
        """A jump forward: silence is a hole (nothing written); Opus conceals the gap."""
        self.counts["gap_filled"] += gap
        if gap and isinstance(segment.decoder, OpusDecoder):
            segment.writer.write_at(
                (segment.end - segment.base) * self.frame_bytes, segment.decoder.conceal(gap)
            )

    def _segment_for(self, seq: int) -> Segment:
        limit = min(self.limits.max_segment_bytes, MAX_DATA_BYTES)
        fits = [g for g in self.open if g.accepts(seq, self.max_gap, limit)]
        if fits:  # a hole to fill first, else the segment that ends nearest below
            return max(fits, key=lambda g: (seq < g.end, g.end))
        return self._new_segment(seq)

    def _new_segment(self, seq: int) -> Segment:
        base = self._base_for(seq)
        self.budget.charge(self.stream, _HEADER_BYTES)
        meta = SegmentMeta(self.stream, self.epoch, base)
        writer = create_segment(self.out_dir, self.shape[0], self.shape[1], meta)
        segment = Segment(writer, base, self.frame_bytes, self._decoder(self._first))
        self.open.append(segment)
        self.counts["segments"] += 1
        if self.first_seq is None:
            self.first_seq = base
        if self.counts["segments"] % 100 == 1:  # an outlier flood must not flood the log
            logger.info(
                "receiver %d: %s from seq %d -> %s", os.getpid(), self.stream, base, writer.path
            )
        if len(self.open) > MAX_OPEN:
            self._close(min(self.open[:-1], key=lambda g: g.last_write))
        return segment

    def _base_for(self, seq: int) -> int:
        """Continue where this epoch stopped when that is near; a new stream starts at 0."""
        ends = [g.end for g in self.open] + [r.end for r in self.past if r.end is not None]
        near = [e for e in ends if 0 <= seq - e <= self.max_gap]
        if near:
            return max(near)
        return 0 if not ends and seq <= self.max_gap else seq

    def _decoder(self, frame: Frame) -> PcmDecoder | OpusDecoder:
        decoder = decoder_for(frame, {})
        if isinstance(decoder, OpusDecoder):
            self.counts.setdefault("concealed", 0)
            self.counts.setdefault("decode_errors", 0)
            decoder.counts = self.counts  # every segment's decoder counts into the stream
        return decoder

    def _close(self, segment: Segment) -> None:
        segment.writer.close()
        self.open.remove(segment)
        self.past.append(segment.written)
        self.closed_missing += segment.holes

    def stats(self) -> dict[str, int | None]:
        missing = self.closed_missing + sum(g.holes for g in self.open)
        ends = [g.end for g in self.open] + [r.end or 0 for r in self.past]
        return {
            **self.counts,
            "missing": missing,
            "first_seq": self.first_seq,
            "next_seq": max(ends, default=None),
        }

    def close(self) -> None:
        for segment in list(self.open):
            self._close(segment)
