"""The voice detector behind ``suppress_silence``: WebRTC's VAD (``webrtcvad-wheels``).

webrtcvad judges 10, 20 or 30 ms of 16-bit mono at 8, 16, 32 or 48 kHz.
Stream frames may be any length and have up to 8 channels, so channels are
averaged to mono and the samples are judged in 10 ms blocks as they
complete: a frame is voiced when a block completed during it was, and a
frame too short to complete one keeps the last verdict. Other rates are
refused before anything runs (``problem``). docs/silence.md says why this
detector and not an energy gate.
"""

from __future__ import annotations

import importlib
import math
from types import ModuleType
from typing import Any

from capture_proc.gate import Audio, Gate, Out

RATES = (8000, 16000, 32000, 48000)
MODE = 2  # webrtcvad aggressiveness 0-3; 2 measured best on speech (bench/audio.py)
PREROLL_S = HANGOVER_S = 0.2  # kept before speech starts and after it ends
MAX_RUN_S = 1.0  # a silence run goes out at least this often
_BLOCK_S = 0.01
PIP_HINT = "pip install 'audio-uplink[vad]'"


class VadUnavailable(RuntimeError):
    """webrtcvad is missing or cannot judge this stream; the text is the one line to show."""


def load_webrtcvad() -> ModuleType:
    try:
        return importlib.import_module("webrtcvad")
    except ImportError:
        raise VadUnavailable(
            f"suppress_silence needs the Python package webrtcvad-wheels: {PIP_HINT}"
        ) from None


def problem(rate: int) -> str | None:
    """The one-line reason suppression cannot run on this stream, or None."""
    if rate not in RATES:
        rates = ", ".join(str(r) for r in RATES)
        return f"rate = {rate}: suppress_silence (webrtcvad) takes rate {rates}"
    try:
        load_webrtcvad()
    except VadUnavailable as exc:
        return str(exc)
    return None


class Judge:
    """Voiced or not, frame by frame, whatever the frame's length and channels."""

    def __init__(self, rate: int, channels: int, mode: int = MODE) -> None:
        if reason := problem(rate):
            raise VadUnavailable(reason)
        self._vad: Any = load_webrtcvad().Vad(mode)
        self.rate, self.channels = rate, channels
        self._block = round(rate * _BLOCK_S) * 2  # bytes of mono s16le
        self._pending = b""  # less than one block, carried to the next frame
        self._voiced = False

    def voiced(self, pcm: bytes) -> bool:
        data = self._pending + self._mono(pcm)
        blocks = len(data) // self._block
        if blocks:
            cut = blocks * self._block
            self._voiced = any(
                self._vad.is_speech(data[i : i + self._block], self.rate)
                for i in range(0, cut, self._block)
            )
            data = data[cut:]
        self._pending = data
        return self._voiced

    def _mono(self, pcm: bytes) -> bytes:
        if self.channels == 1:
            return pcm
        import numpy as np  # for mixing channels only: a mono stream never loads it

        samples = np.frombuffer(pcm, "<i2").reshape(-1, self.channels)
        mono: bytes = samples.mean(axis=1).round().astype("<i2").tobytes()  # a mean: no clipping
        return mono


class Suppressor:
    """The detector and the gate together: PCM frames in, audio and silence runs out."""

    def __init__(self, rate: int, channels: int, frame_s: float, mode: int = MODE) -> None:
        """VadUnavailable if webrtcvad is missing or cannot take this rate."""
        self.judge = Judge(rate, channels, mode)
        self.gate = Gate(
            preroll=math.ceil(PREROLL_S / frame_s - 1e-9),
            hangover=math.ceil(HANGOVER_S / frame_s - 1e-9),
            max_run=max(1, math.floor(MAX_RUN_S / frame_s + 1e-9)),
        )

    def push(self, seq: int, t_capture: float, pcm: bytes) -> list[Out]:
        return self.gate.push(Audio(seq, t_capture, pcm), self.judge.voiced(pcm))

    def flush(self) -> list[Out]:
        return self.gate.flush()

    @property
    def counters(self) -> dict[str, int]:
        return self.gate.counters
