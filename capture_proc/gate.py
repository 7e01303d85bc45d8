"""Silence suppression's decision, free of I/O: which frames go out as audio, which as silence.

Each frame comes with the voice detector's verdict (capture_proc/vad.py).
A voiced frame goes out at once, after the held pre-roll; the ``hangover``
frames after the last voiced one go out as audio too. Other frames are held
in a ring of ``preroll`` frames, so the sound before a word starts can still
be sent when the word comes; a frame pushed out of that ring is *suppressed*:
it joins the open silence run, which goes out as one frame (format v3) when
it reaches ``max_run`` frames, when audio resumes, when seqs jump (a device
gap), or at ``flush``. Everything goes out in seq order.

Bounded: at most ``preroll`` frames of audio are held, and a run is a count.
Counter ``suppressed``: frames sent as part of a silence run.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from uplink_frame.counters import CaptureCounter


@dataclass(frozen=True, slots=True)
class Audio:
    seq: int
    t_capture: float
    pcm: bytes


@dataclass(slots=True)
class Silence:
    """Seqs ``seq`` .. ``seq + frames - 1``, all silent; ``t_capture`` is the first one's."""

    seq: int
    frames: int
    t_capture: float


Out = Audio | Silence


class Gate:
    def __init__(self, preroll: int, hangover: int, max_run: int) -> None:
        self.preroll, self.hangover, self.max_run = preroll, hangover, max(1, max_run)
        self.held: deque[Audio] = deque()
        self.run: Silence | None = None
        self.counters: dict[str, int] = {CaptureCounter.SUPPRESSED: 0}
        self._hang = 0  # frames of hangover still to send as audio

    def push(self, frame: Audio, voiced: bool) -> list[Out]:
        """One frame and its verdict in; what goes out now, oldest first."""
        if voiced:
            self._hang = self.hangover
            out: list[Out] = self._close_run()
            out += self.held
            self.held.clear()
            return [*out, frame]
        if self._hang > 0:
            self._hang -= 1
            return [frame]
        self.held.append(frame)
        if len(self.held) > self.preroll:
            return self._suppress(self.held.popleft())
        return []

    def flush(self) -> list[Out]:
        """The stream ends: what is held was silence, so it goes out as silence runs."""
        out: list[Out] = []
        while self.held:
            out += self._suppress(self.held.popleft())
        return out + self._close_run()

    def _suppress(self, frame: Audio) -> list[Out]:
        out: list[Out] = []
        run = self.run
        if run is not None and frame.seq != run.seq + run.frames:  # seqs jumped: a device gap
            out += self._close_run()
        if self.run is None:
            self.run = Silence(frame.seq, 0, frame.t_capture)
        self.run.frames += 1
        self.counters[CaptureCounter.SUPPRESSED] += 1
        if self.run.frames >= self.max_run:
            out += self._close_run()
        return out

    def _close_run(self) -> list[Out]:
        run, self.run = self.run, None
        return [run] if run is not None else []
