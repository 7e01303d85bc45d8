"""Silence suppression end to end: speech with pauses through `supervisor start`.

By the receiver's own evidence (its WAV and stats.json): the recording has
exactly as many samples as without suppression, every frame sent as audio is
the input bit for bit (the voiced parts correlate at 1.0), the suppressed
pauses are zeros, and every seq is accounted for.
"""

from __future__ import annotations

import json
import os
import signal as signal_
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.evidence import stream_stats
from tests.speech import speech_with_pauses, voiced_frames, write_wav
from tests.support import Procs, read_wav, start_pipeline, wait_child_pid

RATE, FRAME = 16000, 320  # 20 ms frames


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray, np.ndarray]:
    tmp = tmp_path_factory.mktemp("speech")
    signal, clean = speech_with_pauses(RATE, tmp)
    write_wav(tmp / "speech.wav", signal, RATE)
    return tmp / "speech.wav", signal, clean


def run(procs: Procs, run_dir: Path, tmp: Path, wav: Path, *flags: str) -> tuple[Any, Path]:
    tmp.mkdir()
    rec, rep = tmp / "rec", tmp / "report.json"
    proc = start_pipeline(
        procs, run_dir, rec, rep, "--source", f"file:{wav}", "--no-pace", "--delivery",
        "complete", "--duration", "120", *flags,
    )  # fmt: skip
    _, err = proc.communicate(timeout=120)  # ends with the file
    assert proc.returncode == 0, err
    return json.loads(rep.read_text()), rec


def test_suppressed_pauses_keep_the_timeline_and_the_speech(
    procs: Procs, run_dir: Path, tmp_path: Path, speech: tuple[Path, np.ndarray, np.ndarray]
) -> None:
    wav, signal, clean = speech
    frames = -(-len(signal) // FRAME)
    padded = np.zeros(frames * FRAME, dtype=np.int16)
    padded[: len(signal)] = signal

    off, rec_off = run(procs, run_dir, tmp_path / "off", wav)
    on, rec_on = run(procs, run_dir, tmp_path / "on", wav, "--suppress-silence")

    _, audio_off = read_wav(rec_off / "main.wav")
    params, audio_on = read_wav(rec_on / "main.wav")
    assert (params.framerate, params.nchannels) == (RATE, 1)
    assert len(audio_on) == len(audio_off) == padded.nbytes  # the same duration, to the sample
    assert audio_off == padded.tobytes()

    got = np.frombuffer(audio_on, "<i2").reshape(frames, FRAME)
    sent = padded.reshape(frames, FRAME)
    same = (got == sent).all(axis=1)
    zero = (got == 0).all(axis=1)
    assert (same | zero).all()  # each frame is the input, or suppressed to silence
    voiced = voiced_frames(clean, FRAME)
    assert same[voiced].all()  # no word clipped
    a, b = got[voiced].ravel().astype(float), sent[voiced].ravel().astype(float)
    assert np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)) >= 0.95
    # 4 pauses of 2 s, less 200 ms of pre-roll and hangover at each sentence
    assert int(zero.sum()) >= 0.8 * (8.0 - 6 * 0.2) / 0.02, int(zero.sum())

    stats = stream_stats(rec_on)
    assert stats["frames"] == frames and stats["missing"] == 0, stats
    assert stats["silent"] == on["frames"]["suppressed"] == int((~same).sum()) > 0, stats
    f = on["frames"]
    assert f["captured"] == f["acked"] == frames and f["unaccounted"] == 0, f
    assert sum(f["dropped"].values()) == 0, f
    assert on["capture"]["suppressed"] == f["suppressed"]
    assert on["receiver"]["frames"] == frames  # the receiver counts seqs too
    # the wire carried fewer bytes: audio only for the voiced part
    assert stats["audio_bytes"] < 0.8 * stream_stats(rec_off)["audio_bytes"]
    assert off["frames"]["suppressed"] == 0


def test_runs_are_redelivered_like_frames_when_senders_die(
    procs: Procs, run_dir: Path, tmp_path: Path, speech: tuple[Path, np.ndarray, np.ndarray]
) -> None:
    """Real time, two senders, one killed four times: no seq missing, the timeline exact."""
    wav, signal, clean = speech
    frames = -(-len(signal) // FRAME)
    rec, rep = tmp_path / "rec", tmp_path / "report.json"
    with (tmp_path / "err").open("w") as err:
        proc = start_pipeline(
            procs, run_dir, rec, rep, "--source", f"file:{wav}", "--suppress-silence",
            "--delivery", "complete", "--senders", "2", "--duration", "120", stderr=err,
        )  # fmt: skip
    pid = None
    for _ in range(4):
        time.sleep(2.5)  # spread the kills over pauses and speech
        pid = wait_child_pid(run_dir, "sender-1", not_pid=pid)
        os.kill(pid, signal_.SIGKILL)
    assert proc.wait(timeout=120) == 0, (tmp_path / "err").read_text()

    report = json.loads(rep.read_text())
    f, stats = report["frames"], stream_stats(rec)
    assert f["captured"] == f["acked"] == frames and f["unaccounted"] == 0, f
    assert stats["missing"] == 0 and stats["frames"] == frames, stats
    assert report["processes"]["sender-1"]["restarts"] == 4
    assert stats["silent"] == f["suppressed"] > 0
    _, audio = read_wav(rec / "main.wav")
    got = np.frombuffer(audio, "<i2").reshape(frames, FRAME)
    padded = np.zeros(frames * FRAME, dtype=np.int16)
    padded[: len(signal)] = signal
    sent = padded.reshape(frames, FRAME)
    same = (got == sent).all(axis=1)
    assert (same | (got == 0).all(axis=1)).all() and same[voiced_frames(clean, FRAME)].all()
    assert int((~same).sum()) == f["suppressed"]
