"""A sender process's frozen config, written by the supervisor (supervisor/config/keys.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sender_proc.flow import FlowLimits
from uplink_frame.batch import MAX_BATCH
from uplink_runtime.child import ChildSpec

COMPLETE_BACKOFF_MAX_MS = 1000


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
    stall_reconnect_ms: int = 5000
    buffer_ms: int | None = None  # replay ring while down or stalled; None: max_latency_ms
    # complete: every frame younger than buffer_ms is delivered, oldest first,
    # so buffer_ms is also the age limit and the queue bound (docs/delivery.md)
    complete: bool = False
    acks: bool = True
    batch_ms: int = 0
    target_delay_ms: int = 50  # queueing at the server the window tolerates
    auth_token_file: str | None = None  # the token itself never enters a config file
    ca_file: str | None = None
    tls_insecure: bool = False
    curve_dir: str | None = None  # tcp:// endpoints: CURVE client (supervisor/curve.py)
    streams: tuple[str, ...] = ()  # the stream each endpoint carries, in the same order

    def limits(self) -> FlowLimits:
        return FlowLimits(
            window=self.window,
            queue_frames=self.queue_frames,
            buffer_frames=self._frames(self.buffer_ms_or_latency),
            max_latency_s=self.budget_ms / 1000,
            ack_timeout_s=self.ack_timeout_ms / 1000,
            target_s=self.target_delay_ms / 1000,
            batch_frames=min(MAX_BATCH, max(1, round(self.batch_ms / self.frame_ms))),
            acks=self.acks,
            trim_backlog=not self.complete,
        )

    @property
    def buffer_ms_or_latency(self) -> int:
        return self.max_latency_ms if self.buffer_ms is None else self.buffer_ms

    @property
    def budget_ms(self) -> int:
        """The age past which a frame is stale: the mode's promise."""
        return self.buffer_ms_or_latency if self.complete else self.max_latency_ms

    @property
    def queue_frames(self) -> int:
        """Frames the pending queue holds: the budget's audio per stream."""
        return self._frames(self.budget_ms)

    @property
    def backoff_cap_ms(self) -> int:
        """Complete delivery catches up from the moment the server is back: retry sooner."""
        return (
            min(self.backoff_max_ms, COMPLETE_BACKOFF_MAX_MS)
            if self.complete
            else self.backoff_max_ms
        )

    def _frames(self, ms: int) -> int:
        return max(1, math.ceil(ms / self.frame_ms)) * len(self.endpoints)
