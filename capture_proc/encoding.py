"""Turns captured PCM into frames, encoding it with Opus when the stream asks for it.

The encoder runs here, next to the source, so every later hop (the ZeroMQ
pipe, the sender's queues, the wire) holds the small packets and the
senders never need to know which codec a stream uses.
"""

from __future__ import annotations

from capture_proc.config import CaptureConfig
from uplink_frame import Frame
from uplink_frame.codec import OpusEncoder


class FrameMaker:
    """``make(seq, t_capture, pcm)`` -> the frame to PUSH; builds the encoder once."""

    def __init__(self, config: CaptureConfig) -> None:
        """CodecUnavailable if the stream wants Opus and opuslib or libopus is missing."""
        self.config = config
        self.encoder: OpusEncoder | None = None
        if config.codec == "opus":
            self.encoder = OpusEncoder(
                config.rate, config.channels, config.bitrate, config.application
            )

    def make(self, seq: int, t_capture: float, pcm: bytes) -> Frame:
        c = self.config
        audio = self.encoder.encode(pcm) if self.encoder else pcm
        return Frame(c.stream, seq, t_capture, c.rate, c.channels, audio, c.codec, c.epoch)

    def silence(self, seq: int, frames: int, t_capture: float) -> Frame:
        """A silence run (format v3): ``frames`` frames from ``seq``, no audio."""
        c = self.config
        return Frame(
            c.stream,
            seq,
            t_capture,
            c.rate,
            c.channels,
            b"",
            c.codec,
            c.epoch,
            silent=frames,
            frame_samples=c.samples_per_frame,
        )
