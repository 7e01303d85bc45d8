"""``--source mic`` end to end, against a real PulseAudio daemon's virtual microphone."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

from testkit.pulse import Pulse
from tests.capture_proc.signals import (
    NOISE_S,
    PAUSE_S,
    RATE,
    TONE_HZ,
    best_correlation,
    dominant_hz,
    noise_burst,
    write_test_wav,
)
from tests.support import (
    Procs,
    poll_for,
    read_wav,
    run_supervisor,
    start_supervisor,
    wait_child_pid,
)


class Pipeline:
    """``supervisor start --source mic`` with the test daemon's environment."""

    def __init__(self, procs: Procs, run_dir: Path, env: dict[str, str]) -> None:
        self.run = start_supervisor(
            procs, run_dir, "--source", "mic", env=env, stdout=subprocess.PIPE
        )
        self.wav = self.run.rec / "main.wav"

    def wav_bytes(self) -> int:
        return self.wav.stat().st_size if self.wav.exists() else 0

    def wait_growing(self, seconds: float, timeout: float = 20) -> None:
        """Until the recording has grown by ``seconds`` of audio from now."""
        start = self.wav_bytes()
        poll_for(lambda: self.wav_bytes() >= start + seconds * RATE * 2, timeout=timeout)

    def stop(self) -> tuple[dict[str, Any], str]:
        ended = self.run.stop(timeout=30)
        assert ended.code == 0, ended.err
        return ended.report, ended.err


def test_played_signal_is_recorded(
    pulse: Pulse, procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    played = tmp_path / "known.wav"
    write_test_wav(played)
    pipeline = Pipeline(procs, run_dir, pulse.env)
    pipeline.wait_growing(0.2)  # the microphone is live
    pulse.play(played)
    pipeline.wait_growing(0.2)  # the tail has come through
    report, _ = pipeline.stop()

    _, audio = read_wav(pipeline.wav)
    recording = np.frombuffer(audio, "<i2")
    lag, r = best_correlation(recording, noise_burst())
    assert r >= 0.99, f"noise burst correlates {r:.4f} at best (lag {lag})"
    tone_at = lag + int((NOISE_S + PAUSE_S + 0.1) * RATE)
    hz = dominant_hz(recording[tone_at : tone_at + int(0.8 * RATE)])
    assert abs(hz - TONE_HZ) <= 1, f"dominant frequency {hz:.2f} Hz"
    assert report["frames"]["unaccounted"] == 0
    assert report["capture"]["device_reopen"] == 0


def test_devices_lists_the_virtual_microphone(pulse: Pulse) -> None:
    done = run_supervisor("devices", env=pulse.env, timeout=30)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = ["index", "name", "inputs", "default", "rate", "for", "16000", "Hz", "1", "ch"]
    assert lines[0].split() == header
    # PulseAudio takes any format: the default stream is recorded as it is, not converted
    assert any(" pulse " in line and " direct" in line for line in lines), done.stdout
    assert sum(line.endswith("(default)") for line in lines) == 1, done.stdout


def test_killed_audio_server_is_bridged_and_counted(
    pulse: Pulse, procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    pipeline = Pipeline(procs, run_dir, pulse.env)
    pipeline.wait_growing(0.5)
    pulse.kill()
    time.sleep(1.0)  # the scenario: the server stays away for a second
    pulse.start()
    pipeline.wait_growing(0.5)  # frames come again, from the same capture process
    report, err = pipeline.stop()

    capture = report["capture"]
    assert capture["device_reopen"] == 1, err
    assert capture["gap_ms"] >= 1000 and capture["gap_frames"] >= 50, capture
    assert report["processes"]["capture"]["restarts"] == 0
    assert report["frames"]["unaccounted"] == 0
    stats = json.loads((pipeline.wav.parent / "stats.json").read_text())["streams"]["main"]
    # the receiver sees the gap as missing seqs: the seq advanced by the time away
    assert abs(stats["missing"] - capture["gap_frames"]) <= report["frames"]["dropped"]["queue"]
    assert "lost (the stream stopped)" in err and "is back" in err


def test_frozen_audio_server_gets_the_capture_replaced(
    pulse: Pulse, procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    pipeline = Pipeline(procs, run_dir, pulse.env)
    pipeline.wait_growing(0.5)
    first = wait_child_pid(run_dir, "capture")
    pulse.freeze()
    try:
        wait_child_pid(run_dir, "capture", timeout=15, not_pid=first)  # the watchdog replaced it
    finally:
        pulse.thaw()
    pipeline.wait_growing(0.5)
    report, _ = pipeline.stop()
    assert report["processes"]["capture"]["restarts"] >= 1
    assert report["frames"]["unaccounted"] == 0


def test_no_audio_server_one_line_and_exit_2(no_audio_env: dict[str, str], run_dir: Path) -> None:
    done = run_supervisor("start", "--source", "mic", "--run-dir", str(run_dir), env=no_audio_env)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "supervisor: source: no audio input device found: see `supervisor devices`, "
        "or use --source tone"
    ]
    devices = run_supervisor("devices", env=no_audio_env)
    assert devices.returncode != 0 and devices.stdout == ""
    assert len(devices.stderr.splitlines()) == 1 and "--source tone" in devices.stderr
