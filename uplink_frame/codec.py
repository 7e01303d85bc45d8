"""The codec seam: PCM passes through; Opus encodes at capture and decodes at the receiver.

opuslib-next (or the original opuslib, same API) and the libopus it loads
are imported only when a stream uses codec "opus", so PCM users need neither.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType
from typing import Any

from uplink_frame.format import Frame, FrameError

logger = logging.getLogger(__name__)
PIP_HINT = "pip install 'audio-uplink[opus]'"
APT_HINT = "apt-get install libopus0"


class CodecUnavailable(RuntimeError):
    """Opus was asked for but opuslib or libopus is missing; the text says what to install."""


_OPUS_MODULES = ("opuslib_next", "opuslib")  # the maintained fork first; the same API


def load_opuslib() -> ModuleType:
    """opuslib-next or opuslib, or CodecUnavailable naming the package to install."""
    for name in _OPUS_MODULES:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
        except Exception:  # both raise a bare Exception when they cannot find libopus
            raise CodecUnavailable(
                f"codec opus needs the system library libopus: {APT_HINT}"
            ) from None
    raise CodecUnavailable(f"codec opus needs the Python package opuslib-next: {PIP_HINT}")


class OpusEncoder:
    """One stream's encoder: a frame of s16le PCM in, one Opus packet out."""

    def __init__(self, rate: int, channels: int, bitrate: int, application: str) -> None:
        opuslib = load_opuslib()
        self._encoder: Any = opuslib.Encoder(rate, channels, application)
        self._encoder.bitrate = bitrate
        self._channels = channels

    @property
    def lookahead(self) -> int:
        """Samples the decoded audio lags the input by (the codec delay)."""
        lookahead: int = self._encoder.lookahead
        return lookahead

    def encode(self, pcm: bytes) -> bytes:
        packet: bytes = self._encoder.encode(pcm, len(pcm) // (2 * self._channels))
        return packet


class PcmDecoder:
    """PCM frames are already what the WAV holds; a missing frame becomes silence."""

    def __init__(self, first: Frame) -> None:
        self._silence = bytes(first.samples * first.channels * 2)  # a silence run has no audio

    def pcm(self, frame: Frame) -> bytes:
        return frame.audio

    def conceal(self, frames: int) -> bytes:
        return self._silence * frames


class OpusDecoder:
    """Decodes in seq order; a missing frame is concealed by Opus (PLC), not silence."""

    def __init__(self, first: Frame, counts: dict[str, int]) -> None:
        """Counts ``concealed`` and ``decode_errors`` frames in ``counts``."""
        opuslib = load_opuslib()
        self._decode = opuslib.api.decoder.decode
        self._error = opuslib.OpusError
        self._decoder: Any = opuslib.Decoder(first.rate, first.channels)
        self._samples = first.samples
        self._channels = first.channels
        self.counts = counts
        counts.update(concealed=0, decode_errors=0)

    def pcm(self, frame: Frame) -> bytes:
        try:
            pcm: bytes = self._decoder.decode(frame.audio, self._samples)
        except self._error as exc:
            # the packet passed the header check but not the decoder: conceal it, count it
            logger.warning("opus: frame %d of %s does not decode: %s", frame.seq, frame.stream, exc)
            self.counts["decode_errors"] += 1
            return self.conceal(1)
        return pcm

    def conceal(self, frames: int) -> bytes:
        """``frames`` frames of Opus packet-loss concealment (decoding no data)."""
        state, n, ch = self._decoder.decoder_state, self._samples, self._channels
        self.counts["concealed"] += frames
        return b"".join(self._decode(state, None, 0, n, False, ch) for _ in range(frames))


def decoder_for(first: Frame, counts: dict[str, int]) -> PcmDecoder | OpusDecoder:
    """The decoder for a stream, chosen by its first frame; FrameError if it cannot be had."""
    if first.codec != "opus":
        return PcmDecoder(first)
    try:
        return OpusDecoder(first, counts)
    except CodecUnavailable as exc:
        raise FrameError(f"this receiver cannot decode: {exc}") from None
