"""The one audio frame format every audio-uplink process speaks.

A frame is a msgpack map on ZeroMQ and the same map (with ``audio`` as a
binary attachment) as the Socket.IO event argument. ``from_dict`` is the
single validator: ``decode`` runs it on msgpack bytes, the receiver runs it
on the Socket.IO payload, so no process trusts a field another one sent.

A frame's identity is ``(stream, epoch, seq)``: the supervisor draws a random
53-bit ``epoch`` per stream at start, so seqs that start again at 0 in a new
run (or on another host using the same stream id) never look like repeats.
Version 1 frames had no epoch and are refused with a reason that says so.

Version 3 adds one kind of message, the silence run (``suppress_silence``):
``silent`` = N frames of silence, seqs ``seq`` .. ``seq + N - 1``, with empty
``audio`` and each frame ``frame_samples`` long. Audio frames are unchanged
and still say v2, so a receiver that knows only v2 refuses a run with its
one line instead of misreading it (docs/silence.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgpack

from uplink_frame import opus_packet

VERSION = 2  # 2: adds ``epoch``; v1 frames are refused (no identity across runs)
SILENCE_VERSION = 3  # 3: adds the silence run; audio frames stay v2 (see the docstring)
# one run stands for at most this much audio: a receiver writes its silence, so this
# bounds what ~250 B can make it write (capture sends runs of 1 s)
MAX_SILENT_MS = 2000.0
FORMAT = "s16le"
CODECS = frozenset({"pcm", "opus"})  # opus: audio is one Opus packet
SAMPLE_BYTES = 2
MIN_RATE, MAX_RATE = 8000, 192000
MAX_CHANNELS = 8
MIN_FRAME_MS, MAX_FRAME_MS = 2.5, 1000.0
MAX_MESSAGE_BYTES = 1 << 20
MAX_SEQ = (1 << 63) - 1
# 53 bits: the largest integer a JavaScript (Node socket.io) server reads exactly from JSON
MAX_EPOCH = (1 << 53) - 1
# t_capture is Unix time; the upper bound (2106) refuses absurd values like 1e308, and
# anything above 0 is accepted so a device whose clock starts at 1970 still records
MAX_T_CAPTURE = float(1 << 32)
_STREAM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_FIELDS = (
    "v",
    "stream",
    "epoch",
    "seq",
    "t_capture",
    "rate",
    "channels",
    "format",
    "codec",
    "audio",
)
_SILENCE_FIELDS = (*_FIELDS, "silent", "frame_samples")
_FIELD_SET, _SILENCE_FIELD_SET = frozenset(_FIELDS), frozenset(_SILENCE_FIELDS)


class FrameError(ValueError):
    """A message is not a valid frame; the text says which field and why."""


@dataclass(frozen=True, slots=True)
class Frame:
    stream: str
    seq: int
    t_capture: float
    rate: int
    channels: int
    audio: bytes
    codec: str = "pcm"
    epoch: int = 0  # chosen by the supervisor per stream and run; see the module docstring
    silent: int = 0  # > 0: a silence run of this many frames, audio empty (v3)
    frame_samples: int = 0  # a silence run's frame length, samples per channel

    @property
    def samples(self) -> int:
        """Samples per channel of one frame (each frame of a silence run)."""
        if self.silent:
            return self.frame_samples
        if self.codec == "opus":
            return opus_packet.samples(self.audio, self.rate)
        return len(self.audio) // (SAMPLE_BYTES * self.channels)

    @property
    def frames(self) -> int:
        """Seqs this message stands for: ``seq`` .. ``seq + frames - 1``."""
        return self.silent or 1

    @property
    def duration_s(self) -> float:
        """One frame's length (each frame of a silence run)."""
        return self.samples / self.rate

    @property
    def t_ready(self) -> float:
        """Unix time the last sample was captured: where latency starts."""
        return self.t_capture + self.frames * self.duration_s

    def to_dict(self) -> dict[str, Any]:
        if self.silent:
            return {
                **self._fields(SILENCE_VERSION),
                "silent": self.silent,
                "frame_samples": self.frame_samples,
            }
        return self._fields(VERSION)

    def _fields(self, version: int) -> dict[str, Any]:
        return {
            "v": version,
            "stream": self.stream,
            "epoch": self.epoch,
            "seq": self.seq,
            "t_capture": self.t_capture,
            "rate": self.rate,
            "channels": self.channels,
            "format": FORMAT,
            "codec": self.codec,
            "audio": self.audio,
        }


def frame_bytes(rate: int, frame_ms: float, channels: int) -> int:
    """Bytes of s16le audio in one frame; FrameError if not a whole sample count."""
    samples = rate * frame_ms / 1000
    if samples != int(samples) or not MIN_FRAME_MS <= frame_ms <= MAX_FRAME_MS:
        raise FrameError(
            f"frame_ms={frame_ms} at rate={rate} is not a whole number of samples "
            f"between {MIN_FRAME_MS} and {MAX_FRAME_MS} ms"
        )
    return int(samples) * channels * SAMPLE_BYTES


def encode(frame: Frame) -> bytes:
    packed: bytes = msgpack.packb(frame.to_dict(), use_bin_type=True)
    return packed


def decode(message: bytes, max_bytes: int = MAX_MESSAGE_BYTES) -> Frame:
    """Parse and validate one msgpack frame; FrameError on anything else."""
    if len(message) > max_bytes:
        raise FrameError(f"message of {len(message)} bytes exceeds the limit of {max_bytes}")
    try:
        obj = msgpack.unpackb(
            message,
            raw=False,
            strict_map_key=True,
            max_bin_len=max_bytes,
            max_str_len=256,
            max_array_len=16,
            max_map_len=16,
            max_ext_len=0,
        )
    except Exception as exc:  # msgpack raises a zoo of types on garbage
        raise FrameError(f"not msgpack: {type(exc).__name__}") from None
    return from_dict(obj, max_bytes)


def from_dict(obj: object, max_bytes: int = MAX_MESSAGE_BYTES) -> Frame:
    """Validate a decoded map (msgpack or Socket.IO payload) into a Frame."""
    if not isinstance(obj, dict):
        raise FrameError(f"frame must be a map, got {type(obj).__name__}")
    if obj.get("v") == 1 and not isinstance(obj.get("v"), bool):
        raise FrameError("frame format v1 is no longer accepted: v2 adds 'epoch' (docs/design.md)")
    version = obj.get("v")
    if not isinstance(version, int) or isinstance(version, bool) or version not in (2, 3):
        shown = repr(version)[:32]
        raise FrameError(f"unsupported frame version {shown}, expected {VERSION} or 3")
    fields = _SILENCE_FIELD_SET if version == SILENCE_VERSION else _FIELD_SET
    keys = obj.keys()
    if keys != fields:
        missing = sorted(fields - keys)
        extra = sorted(str(k)[:32] for k in keys - fields)
        raise FrameError(f"frame fields wrong: missing {missing}, unexpected {extra}")
    stream = obj["stream"]
    if not isinstance(stream, str) or not _STREAM_ID.fullmatch(stream):
        raise FrameError("stream must be 1-64 characters of [A-Za-z0-9_.-]")
    epoch = _int(obj, "epoch", 0, MAX_EPOCH)
    seq = _int(obj, "seq", 0, MAX_SEQ)
    t_capture = obj["t_capture"]
    if not isinstance(t_capture, float) or not 0 < t_capture < MAX_T_CAPTURE:
        raise FrameError(f"t_capture must be a float in 0..{MAX_T_CAPTURE:.0f} (Unix time)")
    rate = _int(obj, "rate", MIN_RATE, MAX_RATE)
    channels = _int(obj, "channels", 1, MAX_CHANNELS)
    if obj["format"] != FORMAT:
        raise FrameError(f"format must be {FORMAT!r}")
    if not isinstance(obj["codec"], str) or obj["codec"] not in CODECS:  # a list is unhashable
        raise FrameError(f"codec must be one of {sorted(CODECS)}")
    audio = obj["audio"]
    if not isinstance(audio, bytes):
        raise FrameError("audio must be bytes")
    if version == SILENCE_VERSION:
        silent, samples = _silence_run(obj, seq, rate)
        return Frame(
            stream, seq, t_capture, rate, channels, audio, obj["codec"], epoch, silent, samples
        )
    if obj["codec"] == "opus":
        _check_opus(audio, rate, channels)
    else:
        _check_audio_length(len(audio), rate, channels, max_bytes)
    return Frame(stream, seq, t_capture, rate, channels, audio, obj["codec"], epoch)


def _silence_run(obj: dict[str, Any], seq: int, rate: int) -> tuple[int, int]:
    """A v3 silence run's frame count and frame length, checked."""
    if obj["audio"]:
        raise FrameError("a silence run (v3) carries no audio")
    samples = _int(obj, "frame_samples", 1, int(rate * MAX_FRAME_MS / 1000))
    if 1000 * samples / rate < MIN_FRAME_MS:
        raise FrameError(f"frame_samples lasts under {MIN_FRAME_MS} ms")
    most = int(MAX_SILENT_MS * rate / 1000 / samples)
    silent = _int(obj, "silent", 1, max(1, min(most, MAX_SEQ - seq + 1)))
    return silent, samples


def _check_audio_length(length: int, rate: int, channels: int, max_bytes: int) -> None:
    if length > max_bytes:
        raise FrameError(f"audio of {length} bytes exceeds the limit of {max_bytes}")
    if length == 0 or length % (SAMPLE_BYTES * channels):
        raise FrameError(f"audio length {length} is not whole s16le samples x {channels} ch")
    ms = 1000 * length / (SAMPLE_BYTES * channels * rate)
    if not MIN_FRAME_MS <= ms <= MAX_FRAME_MS:
        raise FrameError(f"audio lasts {ms:.3f} ms, outside {MIN_FRAME_MS}-{MAX_FRAME_MS} ms")


def _check_opus(packet: bytes, rate: int, channels: int) -> None:
    try:
        opus_packet.check(packet, rate, channels)
    except ValueError as exc:
        raise FrameError(f"audio: {exc}") from None


def _int(obj: dict[str, Any], key: str, lo: int = 0, hi: int = MAX_SEQ) -> int:
    value = obj[key]
    # bool is an int subclass; a frame field is never a bool
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise FrameError(f"{key} must be an integer in {lo}..{hi}")
    return value
