from __future__ import annotations

import math
from dataclasses import dataclass

from supervisor.child import ChildSpec


@dataclass(frozen=True)
class SenderConfig:
    """Everything one sender process needs; built by the supervisor."""

    child: ChildSpec
    endpoints: tuple[str, ...]
    server: str
    event: str = "audio_data"
    window: int = 8
    max_latency_ms: int = 500
    ack_timeout_ms: int = 2000
    frame_ms: float = 20.0
    rcvhwm_frames: int = 8
    drain_ms: int = 3000
    connect_timeout_ms: int = 2000
    backoff_initial_ms: int = 250
    backoff_max_ms: int = 5000
    # unpaced sources (--no-pace): nothing is real time, so stop pulling while
    # frames wait here and let the high-water mark hold capture back, instead
    # of pushing the oldest out
    backpressure: bool = False

    @property
    def queue_frames(self) -> int:
        """Frames the pending queue holds: max_latency_ms of audio per stream."""
        return max(1, math.ceil(self.max_latency_ms / self.frame_ms)) * len(self.endpoints)
