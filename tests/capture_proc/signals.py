"""Known test signals and how to find them again in a recording."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import numpy as np

Samples = np.ndarray[Any, Any]
RATE = 16000
TONE_HZ = 1000.0
NOISE_S, TONE_S, PAUSE_S = 1.0, 1.0, 0.3


def noise_burst(seed: int = 20240611) -> Samples:
    """Seeded white noise at about -20 dBFS RMS."""
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(0, 3300, int(NOISE_S * RATE)), -32768, 32767).astype("<i2")


def tone() -> Samples:
    n = np.arange(int(TONE_S * RATE))
    return np.round(8000 * np.sin(2 * np.pi * TONE_HZ * n / RATE)).astype("<i2")


def write_test_wav(path: Path) -> None:
    """Pause, noise burst, pause, 1 kHz tone, pause: 16 kHz mono s16le."""
    pause = np.zeros(int(PAUSE_S * RATE), "<i2")
    audio = np.concatenate([pause, noise_burst(), pause, tone(), pause])
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(audio.tobytes())


def best_correlation(recording: Samples, reference: Samples) -> tuple[int, float]:
    """Where ``reference`` best matches ``recording``, and the normalised correlation there."""
    x, ref = recording.astype(float), reference.astype(float)
    n = 1 << int(np.ceil(np.log2(len(x) + len(ref))))
    corr = np.fft.irfft(np.fft.rfft(x, n) * np.conj(np.fft.rfft(ref, n)), n)
    corr = corr[: len(x) - len(ref) + 1]
    lag = int(np.argmax(corr))
    window = x[lag : lag + len(ref)]
    r = float(np.dot(window, ref) / (np.linalg.norm(window) * np.linalg.norm(ref) + 1e-12))
    return lag, r


def dominant_hz(segment: Samples, rate: int = RATE) -> float:
    """Peak of a Hann-windowed, zero-padded spectrum, refined by parabolic interpolation."""
    x = segment.astype(float) * np.hanning(len(segment))
    n = 16 * len(x)
    mag = np.abs(np.fft.rfft(x, n))
    k = int(np.argmax(mag[1:-1])) + 1
    a, b, c = np.log(mag[k - 1 : k + 2] + 1e-12)
    shift = 0.5 * (a - c) / (a - 2 * b + c)
    return float((k + shift) * rate / n)
