"""Audio sources. Each yields exactly one frame of s16le audio per ``read``.

``tone`` and ``file:`` are addressed by seq so a restarted capture continues
the same signal where real time says it should be; ``mic`` is paced by the
device itself and numbers its frames (``Captured.index``) by real time.
"""

from __future__ import annotations

import math
import sys
import wave
from array import array
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from uplink_runtime.safefile import open_regular

TONE_HZ = 440
TONE_DBFS = -6.0


class SourceError(Exception):
    """The source cannot be opened as asked; the text tells the user what to do."""


class Source(Protocol):
    """A source the capture loop paces: it asks for frame ``seq`` when its time comes."""

    def read(self, seq: int) -> bytes | None:
        """Audio of frame ``seq``, or None when the source has ended."""

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Captured:
    """One frame from a device: ``index`` counts frame times since the source opened."""

    index: int
    t_capture: float
    audio: bytes


@runtime_checkable
class DeviceSource(Protocol):
    """A source paced by its device: frames come when they come, gaps skip indexes."""

    @property
    def counters(self) -> dict[str, int]:
        """Counters of the device's own events, for the heartbeat."""

    @property
    def info(self) -> dict[str, Any]:
        """Which device, in which state, for the heartbeat."""

    def next_frame(self, timeout_s: float) -> Captured | None:
        """The next frame, or None if none came within ``timeout_s``."""

    def take_dropped(self) -> int:
        """Frames the source dropped since the last call (its buffer was full)."""

    @property
    def ended(self) -> bool:
        """The input has ended (a pipe's end of file) and every frame was taken."""

    def close(self) -> None: ...


def tone_period(rate: int, hz: int = TONE_HZ) -> array[int]:
    """One exact period of the test tone: sample n is round(A*sin(2*pi*hz*n/rate)), A at -6 dBFS.

    The same float operations in the same order as numpy would do them, so the
    samples are bit-for-bit those of ``np.round(A * np.sin(...))``; a frame is
    then a slice, so hours of float error never accumulate. Standard library
    only: a sine table is no reason to load numpy (11 MB) into a child.
    """
    period = rate // math.gcd(hz, rate)
    amplitude = 32767 * 10 ** (TONE_DBFS / 20)
    step = 2 * math.pi * hz  # numpy's order: (2 * pi * hz * n) / rate
    return array("h", (round(amplitude * math.sin(step * n / rate)) for n in range(period)))


class ToneSource:
    """Frame ``seq`` is a slice of one period of the tone, repeated for each channel."""

    def __init__(self, hz: int, rate: int, channels: int, samples: int) -> None:
        if not 1 <= hz < rate // 2:
            raise SourceError(f"tone frequency {hz} Hz must be between 1 and {rate // 2 - 1}")
        self.hz, self.rate, self.channels, self.samples = hz, rate, channels, samples
        mono = tone_period(rate, hz)
        self.period = len(mono)
        interleaved = array("h", (s for s in mono for _ in range(channels)))
        if sys.byteorder == "big":
            interleaved.byteswap()
        self._pcm = interleaved.tobytes()  # s16le

    def read(self, seq: int) -> bytes:
        width = 2 * self.channels
        start = (seq * self.samples) % self.period * width
        end = start + self.samples * width
        pcm = self._pcm
        if end > len(pcm):  # the frame wraps around the period (or spans several)
            pcm = pcm * math.ceil(end / len(pcm))
        return pcm[start:end]

    def close(self) -> None:
        pass


class FileSource:
    """A 16-bit PCM WAV; the last partial frame is padded with silence."""

    def __init__(self, path: str, rate: int, channels: int, samples: int) -> None:
        try:
            self._file = open_regular(path)  # a FIFO would block wave.open forever
        except OSError as exc:
            raise SourceError(f"cannot read WAV file {path}: {exc.strerror}") from None
        try:
            self._wav = wave.open(self._file, "rb")
        except (EOFError, wave.Error) as exc:
            self._file.close()
            raise SourceError(f"cannot read WAV file {path}: {exc}") from None
        width, file_rate, file_ch = (
            self._wav.getsampwidth(),
            self._wav.getframerate(),
            self._wav.getnchannels(),
        )
        if width != 2:
            self.close()
            raise SourceError(f"{path} has {8 * width}-bit samples; only 16-bit PCM WAV works")
        if (file_rate, file_ch) != (rate, channels):
            self.close()
            raise SourceError(
                f"{path} is {file_rate} Hz {file_ch} ch; run with "
                f"--rate {file_rate} --channels {file_ch}"
            )
        self.samples, self.channels = samples, channels

    def read(self, seq: int) -> bytes | None:
        start = seq * self.samples
        if start >= self._wav.getnframes():
            return None
        if self._wav.tell() != start:
            self._wav.setpos(start)
        data = self._wav.readframes(self.samples)
        return data.ljust(self.samples * self.channels * 2, b"\0")

    def close(self) -> None:
        self._wav.close()
        self._file.close()  # wave closes only files it opened itself


def open_source(
    spec: str, rate: int, channels: int, samples: int, pipe: PipeInput | None = None
) -> Source | DeviceSource:
    """Parse ``tone[:HZ]``, ``file:PATH.wav``, ``mic[:DEVICE]`` or ``pipe:-|PATH``; open it.

    A microphone or a pipe in another format than the stream's is converted
    (capture_proc/convert.py).
    """
    kind, _, arg = spec.partition(":")
    if kind == "tone":
        try:
            hz = int(arg) if arg else TONE_HZ
        except ValueError:
            raise SourceError(f"tone:{arg}: frequency must be a whole number of Hz") from None
        return ToneSource(hz, rate, channels, samples)
    if kind == "file" and arg:
        return FileSource(arg, rate, channels, samples)
    if kind in ("mic", "pipe"):
        from capture_proc.convert import AudioFormat, Converted

        return Converted(
            _device(kind, arg, (rate, channels, samples), pipe),
            AudioFormat(rate, channels),
            samples,
        )
    raise SourceError(
        f"unknown source {spec!r}: use tone[:HZ], file:PATH.wav, mic[:DEVICE] or pipe:-|PATH"
    )


@dataclass(frozen=True, slots=True)
class PipeInput:
    """What a ``pipe:`` source carries: its declared format, and where a restart resumes."""

    sample: str = "s16le"
    rate: int | None = None  # None: the stream's
    channels: int | None = None
    start_frame: int = 0  # a regular file is read from this frame on
    stdin_gone: bool = False  # an earlier capture process had stdin
    skip: int = 0  # a restarted capture's FIFO: sequence numbers left out (pipe.py)


def _device(
    kind: str, arg: str, stream: tuple[int, int, int], pipe: PipeInput | None
) -> DeviceSource:
    rate, channels, samples = stream
    if kind == "mic":
        from capture_proc.micstream import MicSource  # PyAudio loads only for a mic

        return MicSource(arg or None, rate, channels, samples)
    from capture_proc.convert import AudioFormat
    from capture_proc.pipe import STDIN_GONE, PipeSource

    p = pipe or PipeInput()
    if not arg:
        raise SourceError("pipe: needs - (stdin) or the path of a FIFO or raw PCM file")
    if arg == "-" and p.stdin_gone:
        raise SourceError(STDIN_GONE)
    fmt = AudioFormat(
        p.rate or rate, p.channels or channels, "f32le" if p.sample == "f32le" else "s16le"
    )
    return PipeSource(arg, fmt, samples / rate, p.start_frame, p.skip)
