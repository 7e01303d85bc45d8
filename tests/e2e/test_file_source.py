"""A WAV file streams through to the receiver exactly, and the pipeline stops at its end."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np

from tests.support import Procs, read_wav, start_supervisor


def test_wav_file_arrives_exactly_and_the_run_ends_with_it(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    rng = np.random.default_rng(7)
    samples = rng.integers(-20000, 20000, size=(48000 * 2 + 123, 2), dtype="<i2")  # ~2 s stereo
    path = tmp_path / "in.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes(samples.tobytes())
    run = start_supervisor(
        procs,
        run_dir,
        *("--source", f"file:{path}", "--rate", "48000", "--channels", "2", "--frame-ms", "10"),
        *("--duration", "60"),
        stdout=subprocess.PIPE,
    )
    ended = run.wait(timeout=60)  # ends with the file, long before --duration
    rec = run.rec
    assert ended.code == 0

    report = ended.report
    assert report["duration_s"] < 30
    frames = -(-len(samples) // 480)
    assert report["frames"]["captured"] == report["frames"]["acked"] == frames
    params, audio = read_wav(rec / "main.wav")
    assert (params.framerate, params.nchannels) == (48000, 2)
    padding = bytes(frames * 480 * 4 - samples.nbytes)
    assert audio == samples.tobytes() + padding
