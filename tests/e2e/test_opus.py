"""Opus through the whole pipeline: the tone survives, the wire carries the bitrate's worth."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.support import Procs, expected_tone, read_wav, start_supervisor
from uplink_frame.codec import OpusEncoder

RATE, FRAME_MS, HZ = 16000, 20, 440
SETTLE = RATE // 10  # skip the codec's first 100 ms while it adapts


def dominant_hz(samples: np.ndarray) -> float:
    pad = 16 * len(samples)  # zero padding: bins of well under 1 Hz
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)), n=pad))
    return float(np.argmax(spectrum) * RATE / pad)


def correlation(got: np.ndarray, ref: np.ndarray, lag: int) -> float:
    a, b = got[SETTLE + lag :], ref[SETTLE : len(ref) - lag]
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    return float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)))


@pytest.mark.parametrize(("bitrate", "application"), [(12000, "voip"), (32000, "audio")])
def test_tone_round_trips_through_opus_within_the_bitrate(
    bitrate: int, application: str, procs: Procs, run_dir: Path
) -> None:
    args = ["--codec", "opus", "--bitrate", str(bitrate), "--application", application]
    run = start_supervisor(procs, run_dir, *args, "--duration", "4", stdout=subprocess.PIPE)
    ended = run.wait(timeout=60)
    rec = run.rec
    assert ended.code == 0, ended.out
    report = ended.report
    frames = report["frames"]
    assert frames["captured"] >= 100 and frames["unaccounted"] == 0

    stats = ended.stream()
    assert stats["frames"] == frames["captured"] and stats["missing"] == 0
    assert stats["concealed"] == 0 and stats["decode_errors"] == 0
    budget = bitrate * FRAME_MS / 1000 / 8  # bytes per frame the bitrate allows
    assert 0.8 * budget <= stats["audio_bytes"] / stats["frames"] <= 1.1 * budget
    assert report["receiver"]["audio_bytes"] == stats["audio_bytes"]  # the report has them too

    params, audio = read_wav(rec / "main.wav")
    assert (params.framerate, params.nchannels, params.sampwidth) == (RATE, 1, 2)
    got = np.frombuffer(audio, "<i2").astype(float)
    ref = np.frombuffer(expected_tone(stats["frames"]), "<i2").astype(float)
    assert len(got) == len(ref)
    assert abs(dominant_hz(got[SETTLE:]) - HZ) <= 1.0
    delay = OpusEncoder(RATE, 1, bitrate, application).lookahead
    assert correlation(got, ref, delay) >= 0.9, (delay, correlation(got, ref, delay))
