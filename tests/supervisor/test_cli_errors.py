"""Bad flags and bad config files: exit code 2 and one line that names the key."""

from __future__ import annotations

import os
import subprocess
import wave
from pathlib import Path

import pytest

from tests.support import (
    Procs,
    one_line_error,
    poll_for,
    run_status,
    run_supervisor,
    start_supervisor,
    supervisor_cmd,
)


@pytest.mark.parametrize(
    ("flags", "names"),
    [
        (["--rate", "abc"], "--rate"),
        (["--rate", "100"], "8000 to 192000"),
        (["--frame-ms", "0"], "--frame-ms"),
        (["--frame-ms", "2.5", "--rate", "44100"], "whole number of samples"),
        (["--window", "0"], "--window"),
        (["--source", "radio"], "tone[:HZ], file:PATH.wav, mic[:DEVICE], pipe:- or pipe:PATH"),
        (["--server", "ftp://x"], "--server"),
        (["--senders", "33"], "1 to 32"),
        (["--duration", "-1"], "--duration"),
        (["--bogus", "1"], "unrecognized arguments: --bogus"),
        (["--source", "file:/nonexistent.wav"], "cannot read WAV file"),
        (["--suppress-silence", "--rate", "44100"], "suppress_silence (webrtcvad) takes rate"),
        (["--suppress-silence", "--max-latency-ms", "300"], "suppress_silence needs at least 400"),
        (["--suppress-silence", "yes"], "unrecognized arguments: yes"),
    ],
)
def test_bad_flag(flags: list[str], names: str, run_dir: Path) -> None:
    line = one_line_error(run_supervisor("start", "--run-dir", str(run_dir), *flags))
    assert names in line


@pytest.mark.parametrize(
    ("toml", "names"),
    [
        ("rate = 'fast'\n", "rate = 'fast': expected an integer"),
        ("colour = 'blue'\n", "unknown config file key 'colour'"),
        ("window = 0\n", "window = 0"),
        ("rate = [\n", "not valid TOML"),
        ("suppress_silence = 'yes'\n", "suppress_silence = 'yes': expected true or false"),
    ],
)
def test_bad_config_file(toml: str, names: str, tmp_path: Path, run_dir: Path) -> None:
    path = tmp_path / "uplink.toml"
    path.write_text(toml)
    line = one_line_error(run_supervisor("start", "--config", str(path), "--run-dir", str(run_dir)))
    assert names in line


def test_missing_config_file(tmp_path: Path) -> None:
    assert "No such file" in one_line_error(
        run_supervisor("start", "--config", str(tmp_path / "no.toml"))
    )


def test_8_bit_wav_is_refused_with_the_fix(tmp_path: Path, run_dir: Path) -> None:
    path = tmp_path / "u8.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(16000)
        w.writeframes(b"\x80" * 1600)
    line = one_line_error(
        run_supervisor("start", "--source", f"file:{path}", "--run-dir", str(run_dir))
    )
    assert "8-bit" in line and "16-bit PCM" in line


def test_wav_rate_mismatch_names_the_flags(tmp_path: Path, run_dir: Path) -> None:
    path = tmp_path / "cd.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(b"\0" * 4 * 441)
    line = one_line_error(
        run_supervisor("start", "--source", f"file:{path}", "--run-dir", str(run_dir))
    )
    assert "--rate 44100 --channels 2" in line


def test_second_supervisor_on_a_live_run_dir_is_refused(run_dir: Path, procs: Procs) -> None:
    first = start_supervisor(procs, run_dir, "--duration", "30", stderr=subprocess.DEVNULL).proc
    poll_for(lambda: run_status(run_dir).get("supervisor") == first.pid, timeout=30)
    line = one_line_error(run_supervisor("start", "--run-dir", str(run_dir)))
    assert f"another supervisor (pid {first.pid})" in line


def test_suppress_silence_without_webrtcvad_says_what_to_install(
    tmp_path: Path, run_dir: Path
) -> None:
    (tmp_path / "webrtcvad.py").write_text("raise ImportError('not installed')\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}:{os.environ.get('PYTHONPATH', '')}"}
    result = subprocess.run(
        supervisor_cmd("start", "--run-dir", str(run_dir), "--suppress-silence"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    line = one_line_error(result)
    needs = "suppress_silence needs the Python package webrtcvad-wheels"
    assert line.endswith(f"{needs}: pip install 'audio-uplink[vad]'"), line
