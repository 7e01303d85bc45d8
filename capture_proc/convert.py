"""Audio in another format than the stream's: mixed, resampled (soxr) and re-framed.

``Converter`` is the pure core: interleaved PCM of one format in, s16le of
the stream's format out, with the resampler's state kept across calls so
frame boundaries make no clicks. Channels are mixed in float (averaging
cannot clip) and the one conversion back to 16 bits saturates instead of
wrapping. ``Converted`` is the thin shell that puts it between a device
source and the capture loop and cuts its output into whole frames again.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from capture_proc.sources import Captured, SourceError

if TYPE_CHECKING:  # numpy loads when audio is converted, not when a format is only named
    import numpy as np

logger = logging.getLogger(__name__)

QUALITY = "HQ"  # soxr's high quality: THD+N far below -60 dB at a fraction of VHQ's cost
SampleFormat = Literal["s16le", "f32le"]
_DTYPES: dict[str, str] = {"s16le": "<i2", "f32le": "<f4"}


@dataclass(frozen=True, slots=True)
class AudioFormat:
    rate: int
    channels: int
    sample: SampleFormat = "s16le"

    @property
    def block_bytes(self) -> int:
        """Bytes of one sample frame (every channel once)."""
        return self.channels * (2 if self.sample == "s16le" else 4)

    def __str__(self) -> str:
        return f"{self.rate} Hz {self.channels} ch {self.sample}"


def mixable(src: int, dst: int) -> bool:
    """Mixing down to mono averages, mono is copied to every channel; nothing else is guessed."""
    return src == dst or 1 in (src, dst)


class Converter:
    """``push(pcm)`` -> s16le samples of the stream's format; ``flush()`` at the end of input."""

    def __init__(self, src: AudioFormat, dst: AudioFormat, quality: str = QUALITY) -> None:
        if not mixable(src.channels, dst.channels):
            raise SourceError(
                f"cannot mix {src.channels} channels into {dst.channels}: "
                f"use --channels 1 or --channels {src.channels}"
            )
        self.src, self.dst, self.quality = src, dst, quality
        self.clipped = 0  # samples saturated on the way back to 16 bits
        self._stream: Any = None
        if src.rate != dst.rate:
            mixed = 1 if 1 in (src.channels, dst.channels) else dst.channels
            self._stream = _resampler(src.rate, dst.rate, mixed, quality)

    @property
    def resamples(self) -> bool:
        return self._stream is not None

    def describe(self) -> str:
        how = f"soxr {self.quality}" if self.resamples else "mixed only"
        return f"converted from {self.src} ({how})"

    def push(self, pcm: bytes, last: bool = False) -> bytes:
        """Whole sample frames of ``pcm`` converted; soxr may hold some back until later."""
        import numpy as np

        usable = len(pcm) - len(pcm) % self.src.block_bytes
        x = np.frombuffer(pcm[:usable], dtype=_DTYPES[self.src.sample]).astype(np.float32)
        if self.src.sample == "s16le":
            x /= 32768.0
        x = self._mix(x.reshape(-1, self.src.channels))
        if self._stream is not None:
            x = self._stream.resample_chunk(x, last=last)
        if self.dst.channels > x.shape[1]:
            x = np.repeat(x, self.dst.channels, axis=1)
        return self._to_s16(x)

    def flush(self) -> bytes:
        """What the resampler still holds: the input has ended."""
        return self.push(b"", last=True)

    def _mix(self, x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        if self.dst.channels == 1 and x.shape[1] > 1:
            mixed: np.ndarray[Any, Any] = x.mean(axis=1, keepdims=True, dtype="float32")
            return mixed
        return x

    def _to_s16(self, x: np.ndarray[Any, Any]) -> bytes:
        import numpy as np

        scaled = np.rint(x.reshape(-1) * 32768.0)
        over = (scaled > 32767) | (scaled < -32768)
        if over.any():
            self.clipped += int(over.sum())
            np.clip(scaled, -32768, 32767, out=scaled)
        return scaled.astype("<i2").tobytes()


def _resampler(src_rate: int, dst_rate: int, channels: int, quality: str) -> Any:
    import soxr  # loads only when some input needs resampling

    return soxr.ResampleStream(src_rate, dst_rate, channels, dtype="float32", quality=quality)


class Reframer:
    """Cuts a stream of s16le bytes into frames of ``frame_bytes``; holds less than one frame."""

    def __init__(self, frame_bytes: int) -> None:
        self.frame_bytes = frame_bytes
        self._held = b""

    def add(self, data: bytes) -> list[bytes]:
        data = self._held + data
        whole = len(data) - len(data) % self.frame_bytes
        self._held = data[whole:]
        return [data[i : i + self.frame_bytes] for i in range(0, whole, self.frame_bytes)]

    def rest(self) -> bytes | None:
        """The last partial frame padded with silence, or None."""
        held, self._held = self._held, b""
        return held.ljust(self.frame_bytes, b"\0") if held else None


class Converted:
    """A device source in its own format, seen as one in the stream's format.

    The inner source numbers its frames (one frame time each, in its own
    format); output frame ``k`` covers the same time as input frame ``k``
    (soxr's output is time-aligned, it only holds samples back), so gaps
    and timestamps carry over. A gap restarts the resampler.
    """

    def __init__(self, inner: Any, dst: AudioFormat, samples: int) -> None:
        self.inner = inner
        self.dst = dst
        self.frame_s = samples / dst.rate
        self._reframer = Reframer(samples * dst.block_bytes)
        self._converter: Converter | None = None
        self._ready: list[Captured] = []
        self._next_in = 0  # the input index expected next
        self._next_out = 0  # the index the next whole output frame gets
        self._last_t = 0.0  # t_capture of the newest output frame
        self.max_held = 0  # most frames ever held back: the latency conversion adds
        self._tail_done = False

    # -- the DeviceSource protocol, passed through -----------------------------

    @property
    def counters(self) -> dict[str, int]:
        counters: dict[str, int] = self.inner.counters
        if self._converter is not None:
            counters["convert_clipped"] = self._converter.clipped
        return counters

    @property
    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = dict(self.inner.info)
        c = self._converter
        if c is not None and c.src != self.dst:
            info["converted"] = c.describe()
            info["convert_held_ms"] = round(self.max_held * self.frame_s * 1000)
        return info

    @property
    def ended(self) -> bool:
        return bool(getattr(self.inner, "ended", False)) and not self._ready

    def take_dropped(self) -> int:
        dropped: int = self.inner.take_dropped()
        return dropped

    def close(self) -> None:
        self.inner.close()

    @property
    def flow_controlled(self) -> bool:
        """A pipe: read only when a frame can go out (capture_proc/run.py)."""
        return bool(getattr(self.inner, "flow_controlled", False))

    # -- conversion ------------------------------------------------------------

    def next_frame(self, timeout_s: float) -> Captured | None:
        if not self._ready:
            got = self.inner.next_frame(timeout_s)
            if got is not None:
                self._take(got)
            elif getattr(self.inner, "ended", False) and not self._tail_done:
                self._finish()
        return self._ready.pop(0) if self._ready else None

    def _take(self, got: Captured) -> None:
        src: AudioFormat = self.inner.input_format
        if src == self.dst and self._converter is None:
            self._ready.append(got)  # the device does the stream's format: untouched
            return
        if self._converter is None or self._converter.src != src or got.index != self._next_in:
            self._restart(src, got.index)
        assert self._converter is not None
        self._next_in = got.index + 1
        for audio in self._reframer.add(self._converter.push(got.audio)):
            self._emit(got.t_capture - (got.index - self._next_out) * self.frame_s, audio)
        self.max_held = max(self.max_held, self._next_in - self._next_out)

    def _emit(self, t_capture: float, audio: bytes) -> None:
        self._ready.append(Captured(self._next_out, t_capture, audio))
        self._next_out += 1
        self._last_t = t_capture

    def _restart(self, src: AudioFormat, index: int) -> None:
        self._converter = Converter(src, self.dst)
        logger.info("capture %d: audio %s to %s", os.getpid(), self._converter.describe(), self.dst)
        self._reframer.rest()  # a partial frame from before the gap is let go
        self._next_out = index

    def _finish(self) -> None:
        """The input ended: what the resampler holds, then the padded last frame."""
        self._tail_done = True
        c = self._converter
        if c is None:
            return
        audio = self._reframer.add(c.flush())
        rest = self._reframer.rest()
        for chunk in [*audio, *([rest] if rest else [])]:
            self._emit(self._last_t + self.frame_s, chunk)
