"""The codec keys: what Opus accepts, checked with the rest of the config before anything runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from uplink_frame import opus_packet
from uplink_frame.codec import CodecUnavailable, load_opuslib

if TYPE_CHECKING:
    from supervisor.config.options import Options

MIN_BITRATE, MAX_BITRATE = 6000, 510_000  # what libopus accepts


def check(options: Options) -> str | None:
    """The one-line reason Options cannot run with its codec, or None."""
    if options.codec != "opus":
        return None
    if options.frame_ms not in opus_packet.FRAME_MS:
        sizes = ", ".join(f"{ms:g}" for ms in opus_packet.FRAME_MS)
        return f"frame_ms = {options.frame_ms:g}: codec opus takes frame_ms {sizes}"
    if options.rate not in opus_packet.RATES:
        rates = ", ".join(str(r) for r in opus_packet.RATES)
        return f"rate = {options.rate}: codec opus takes rate {rates}"
    if options.channels > opus_packet.MAX_CHANNELS:
        return f"channels = {options.channels}: codec opus takes 1 or 2 channels"
    try:
        load_opuslib()
    except CodecUnavailable as exc:
        return str(exc)
    return None
