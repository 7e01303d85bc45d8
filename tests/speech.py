"""Speech with pauses, spoken by espeak-ng: the signal silence suppression is judged on."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Silence between sentences is not sent as audio.",
    "Every frame still has its place in the recording.",
)
VOICED_DBFS = -45.0  # a 20 ms frame of the clean speech louder than this is voiced


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


def sentence(text: str, rate: int, tmp: Path) -> np.ndarray:
    raw, out = tmp / "espeak.wav", tmp / "sentence.wav"
    subprocess.run(["espeak-ng", "-w", str(raw), text], check=True, timeout=60)
    subprocess.run(
        ["sox", str(raw), "-r", str(rate), "-b", "16", "-c", "1", str(out)], check=True, timeout=60
    )
    with wave.open(str(out), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2")


def speech_with_pauses(
    rate: int, tmp: Path, gap_s: float = 2.0, noise_dbfs: float = -60.0, seed: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """(signal, clean speech): sentences with ``gap_s`` of silence around each, plus a
    white noise floor, so the detector has more to do than find digital zeros."""
    gap = np.zeros(int(gap_s * rate), dtype=np.int16)
    parts = [gap]
    for text in SENTENCES:
        parts += [sentence(text, rate, tmp), gap]
    clean = np.concatenate(parts)
    noise = np.random.default_rng(seed).normal(0, 32767 * 10 ** (noise_dbfs / 20), len(clean))
    signal = np.clip(clean + noise.round(), -32768, 32767).astype(np.int16)
    return signal, clean


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())


def voiced_frames(clean: np.ndarray, frame: int) -> np.ndarray:
    """Indexes of the frames whose clean speech is louder than VOICED_DBFS."""
    n = len(clean) // frame
    blocks = clean[: n * frame].astype(np.float64).reshape(n, frame)
    rms = np.sqrt((blocks**2).mean(axis=1)) / 32768
    return np.flatnonzero(rms > 10 ** (VOICED_DBFS / 20))
