"""The voice detector on real speech (espeak-ng), at any frame length and channel count."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from capture_proc.gate import Audio
from capture_proc.vad import Judge, Suppressor, VadUnavailable, problem
from tests.speech import speech_with_pauses, voiced_frames

RATE = 16000


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, np.ndarray]:
    return speech_with_pauses(RATE, tmp_path_factory.mktemp("speech"))


def sent_as_audio(signal: np.ndarray, frame_ms: float, channels: int = 1) -> set[int]:
    """Seqs the suppressor sends as audio, frames of ``frame_ms``."""
    n = round(RATE * frame_ms / 1000)
    suppressor = Suppressor(RATE, channels, frame_ms / 1000)
    out = []
    for seq in range(len(signal) // n):
        pcm = np.repeat(signal[seq * n : (seq + 1) * n], channels).astype("<i2").tobytes()
        out += suppressor.push(seq, 1.0 + seq * frame_ms / 1000, pcm)
    out += suppressor.flush()
    return {x.seq for x in out if isinstance(x, Audio)}


@pytest.mark.parametrize(("frame_ms", "channels"), [(20, 1), (25, 1), (2.5, 1), (60, 2), (10, 8)])
def test_every_voiced_frame_is_sent_and_most_of_the_pauses_are_not(
    speech: tuple[np.ndarray, np.ndarray], frame_ms: float, channels: int
) -> None:
    signal, clean = speech
    n = round(RATE * frame_ms / 1000)
    voiced = set(voiced_frames(clean, n).tolist())
    audio = sent_as_audio(signal, frame_ms, channels)
    assert voiced <= audio, sorted(voiced - audio)[:10]
    # 4 pauses of 2 s, less 400 ms of pre-roll and hangover around each sentence
    frames = len(signal) // n
    assert frames - len(audio) >= 0.6 * (8.0 - 3 * 0.4) / (frame_ms / 1000), len(audio)


def test_digital_silence_is_not_voiced() -> None:
    judge = Judge(RATE, 1)
    assert not any(judge.voiced(bytes(640)) for _ in range(100))


def test_rates_webrtcvad_cannot_judge_are_refused_in_one_line() -> None:
    assert problem(16000) is None and problem(48000) is None
    assert (
        problem(44100)
        == "rate = 44100: suppress_silence (webrtcvad) takes rate 8000, 16000, 32000, 48000"
    )
    with pytest.raises(VadUnavailable, match="rate = 22050"):
        Judge(22050, 1)


@pytest.mark.parametrize(
    ("frame_ms", "preroll", "max_run"), [(20, 10, 50), (30, 7, 33), (2.5, 80, 400), (1000, 1, 1)]
)
def test_preroll_and_hangover_are_at_least_200_ms(
    frame_ms: float, preroll: int, max_run: int
) -> None:
    gate = Suppressor(RATE, 1, frame_ms / 1000).gate
    assert (gate.preroll, gate.hangover, gate.max_run) == (preroll, preroll, max_run)
    assert gate.preroll * frame_ms >= 200


def test_senders_and_receivers_do_not_load_the_detector_or_numpy() -> None:
    code = (
        "import sys, sender_proc.run, receiver.server\n"
        "print(sorted(m for m in ('numpy', 'capture_proc.vad', 'webrtcvad') if m in sys.modules))"
    )
    command = [sys.executable, "-c", code]
    out = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]", out
