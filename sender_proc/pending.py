"""Frames waiting to be emitted: a ring bounded in frames, oldest first.

While the link feeds the server the ring holds ``max_latency_ms`` of audio;
while it is down or stalled it holds the newest ``buffer_ms`` (the replay
window), so an outage costs a bounded amount of memory whatever its length.
Each method returns the frames it dropped; the caller counts them and tells
capture their fate.
"""

from __future__ import annotations

from collections import deque

from uplink_frame import Frame


class Pending:
    def __init__(self, live_frames: int, buffer_frames: int) -> None:
        self.live_frames = live_frames
        self.buffer_frames = buffer_frames
        self.frames: deque[Frame] = deque()

    def __len__(self) -> int:
        return len(self.frames)

    def add(self, frame: Frame, feeding: bool) -> list[Frame]:
        """Append; drop the oldest past the bound of the link's state."""
        self.frames.append(frame)
        return self.trim(self.live_frames if feeding else self.buffer_frames)

    def requeue(self, frames: list[Frame]) -> list[Frame]:
        """Frames sent but never acked go first again, in their order; the oldest past the
        replay bound are dropped."""
        self.frames.extendleft(reversed(frames))
        return self.trim(self.buffer_frames)

    def trim(self, keep: int) -> list[Frame]:
        """Keep only the newest ``keep`` frames."""
        dropped = []
        while len(self.frames) > max(0, keep):
            dropped.append(self.frames.popleft())
        return dropped

    def take(self, now: float, max_age_s: float, most: int) -> tuple[list[Frame], list[Frame]]:
        """The oldest frame still younger than ``max_age_s`` and the frames that follow it
        in its stream (other streams' frames interleave), up to ``most`` in all.

        Returns them and how many older frames were dropped on the way.
        """
        stale = []
        while self.frames and now - self.frames[0].t_ready > max_age_s:
            stale.append(self.frames.popleft())
        if not self.frames:
            return [], stale
        batch = [self.frames.popleft()]
        if most > 1:
            rest: deque[Frame] = deque()
            for frame in self.frames:
                after = batch[-1].seq + batch[-1].frames  # a silence run stands for several
                follows = frame.stream == batch[0].stream and frame.seq == after
                (batch if follows and len(batch) < most else rest).append(frame)
            self.frames = rest
        return batch, stale

    def waiting(self, stream: str) -> int:
        return sum(1 for frame in self.frames if frame.stream == stream)

    def clear(self) -> list[Frame]:
        return self.trim(0)
