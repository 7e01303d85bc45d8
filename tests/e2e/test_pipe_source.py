"""``--source pipe:-`` and ``pipe:PATH``: raw 48 kHz stereo PCM from another program arrives
at the receiver as the 16 kHz mono stream; its end ends the run; a FIFO survives a capture
restart, stdin cannot and says so. Evidence: the receiver's own WAV."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from tests.capture_proc.signals import dominant_hz
from tests.capture_proc.tonecheck import thd_n_db
from tests.support import Procs, poll_for, read_wav, start_pipeline, wait_child_pid

INPUT = ("--input-rate", "48000", "--input-channels", "2")


def recording(rec: Path) -> np.ndarray[Any, Any]:
    params, audio = read_wav(rec / "main.wav")
    assert (params.framerate, params.nchannels, params.sampwidth) == (16000, 1, 2)
    return np.frombuffer(audio, "<i2").astype(float)


def writer(procs: Procs, out: str, seconds: float, **kwargs: Any) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tests.e2e.pcm_writer", out, str(seconds)]
    return procs.start(command, **kwargs)


def on_stdin(
    procs: Procs, run_dir: Path, tmp_path: Path, producer: subprocess.Popen[str]
) -> tuple[subprocess.Popen[str], Path, Path]:
    """`supervisor start --source pipe:-` reading ``producer``'s stdout: (it, WAVs, report)."""
    rec, rep = tmp_path / "rec", tmp_path / "r.json"
    proc = start_pipeline(
        procs, run_dir, rec, rep, "--source", "pipe:-", *INPUT, "--duration", "120",
        stdin=producer.stdout,
    )  # fmt: skip
    assert producer.stdout is not None
    producer.stdout.close()  # the pipeline's stdin is now its only reader
    return proc, rec, rep


def test_sox_into_stdin_arrives_as_16k_mono_and_its_end_ends_the_run(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    sox_args = "-n -r 48000 -c 2 -b 16 -e signed -t raw - synth 4 sine 1000 vol 0.5"
    sox = procs.start(
        ["sox", *sox_args.split()],
        stdout=subprocess.PIPE,
    )
    proc, rec, rep = on_stdin(procs, run_dir, tmp_path, sox)
    _, err = proc.communicate(timeout=90)  # ends with sox's output, long before --duration
    assert proc.returncode == 0, err

    x = recording(rec)
    assert len(x) >= 4 * 16000  # all of it: 4 s, the last frame padded
    hz, thd = dominant_hz(x[1600:-1600], 16000), thd_n_db(x[1600:-1600], 1000.0, 16000)
    assert abs(hz - 1000) <= 1, hz
    assert thd <= -60, thd
    report = json.loads(rep.read_text())
    assert report["stop_reason"] == "source ended"
    assert report["sources"]["capture"]["source_ended"] is True
    assert report["sources"]["capture"]["converted"].startswith("converted from 48000 Hz 2 ch")
    assert report["frames"]["captured"] == report["frames"]["acked"] == 200
    assert "source pipe:- ended" in err


def test_a_fifo_is_reopened_by_a_restarted_capture_and_its_writer_never_sees_a_broken_pipe(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    fifo = tmp_path / "in.pcm"
    os.mkfifo(fifo)
    rec, rep = tmp_path / "rec", tmp_path / "r.json"
    proc = start_pipeline(
        procs, run_dir, rec, rep, "--source", f"pipe:{fifo}", *INPUT, "--duration", "120"
    )
    wait_child_pid(run_dir, "capture")
    time.sleep(3.0)  # the scenario: no writer for longer than hang_timeout_ms (2 s)
    pcm = writer(procs, str(fifo), 8.0)
    wav = rec / "main.wav"
    poll_for(lambda: wav.exists() and wav.stat().st_size > 44 + 2 * 16000 * 2, timeout=60)
    first = wait_child_pid(run_dir, "capture")
    os.kill(first, signal.SIGKILL)
    wait_child_pid(run_dir, "capture", not_pid=first)
    assert pcm.wait(timeout=60) == 0  # no broken pipe while capture was away
    _, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err

    x = recording(rec)
    report = json.loads(rep.read_text())
    assert report["stop_reason"] == "source ended"
    assert report["processes"]["capture"]["restarts"] == 1  # ours: a paused producer is no hang
    # the new capture leaves out the numbers the killed one may have used: no new audio
    # is dropped by the receiver as a duplicate of old (measured: 398 of 400 frames, 0 dup)
    assert report["receiver"]["duplicates"] == 0
    sound = np.abs(x) > 1000
    # what the killed process held (read, or not yet acked) is lost; the rest arrives
    assert sound.sum() >= (8.0 - 1.0) * 16000 * 0.9, sound.sum() / 16000
    late = x[-2 * 16000 : -4000]
    assert abs(dominant_hz(late, 16000) - 1000) <= 1


def test_a_restarted_capture_on_stdin_says_the_input_is_gone_and_the_run_exits_2(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    pcm = writer(procs, "-", 60.0, stdout=subprocess.PIPE)
    proc, rec, _ = on_stdin(procs, run_dir, tmp_path, pcm)
    first = wait_child_pid(run_dir, "capture")
    poll_for((rec / "main.wav").exists, timeout=60)
    os.kill(first, signal.SIGKILL)
    _, err = proc.communicate(timeout=90)
    assert proc.returncode == 2, err
    assert "capture: the input on stdin went with the capture process that read it" in err
