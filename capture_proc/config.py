"""A capture process's frozen config, written by the supervisor (supervisor/config/keys.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from uplink_runtime.child import ChildSpec


@dataclass(frozen=True)
class CaptureConfig:
    """Everything one capture process needs; built by the supervisor."""

    child: ChildSpec
    stream: str
    source: str
    endpoint: str
    rate: int = 16000
    channels: int = 1
    frame_ms: float = 20.0
    hwm_ms: int = 1000
    pace: bool = True
    seq_start: int = 0
    epoch: int = 0  # the stream's identity for this run (uplink_frame/format.py), kept on restart
    wait_peer_ms: int = 3000
    budget_ms: int = 500  # frames older than this are not pushed (again): the delivery mode's
    drain_ms: int = 3000  # a stop: how long frames without a fate are pushed still
    codec: str = "pcm"
    bitrate: int = 24000
    application: str = "voip"
    curve_dir: str | None = None  # tcp:// endpoint: CURVE server (supervisor/curve.py)
    silence_db: float = -60.0  # capture_proc/levels.py: the silent alarm
    silence_alarm_s: float = 10.0
    # pipe: sources (docs/audio.md): the declared raw format, None meaning the stream's
    input_format: str = "s16le"
    input_rate: int | None = None
    input_channels: int | None = None
    stdin_gone: bool = False  # an earlier capture process of this run had stdin
    suppress_silence: bool = False  # docs/silence.md

    @property
    def frame_s(self) -> float:
        return self.frame_ms / 1000

    @property
    def samples_per_frame(self) -> int:
        return round(self.rate * self.frame_ms / 1000)

    @property
    def hwm_frames(self) -> int:
        return max(1, math.ceil(self.hwm_ms / self.frame_ms))
