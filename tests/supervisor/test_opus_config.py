"""codec = opus: settings Opus refuses, a missing opuslib or libopus: exit 2, one line."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.opus_support import LIBOPUS_HINT, NO_LIBOPUS, NO_OPUSLIB, OPUSLIB_HINT, env_without
from tests.support import one_line_error, run_supervisor


@pytest.mark.parametrize(
    ("flags", "names"),
    [
        (["--frame-ms", "30"], "codec opus takes frame_ms 2.5, 5, 10, 20, 40, 60"),
        (["--rate", "44100", "--frame-ms", "20"], "codec opus takes rate 8000, 12000, 16000"),
        (["--channels", "3"], "codec opus takes 1 or 2 channels"),
        (["--bitrate", "100"], "--bitrate = '100': expected an integer from 6000 to 510000"),
        (["--application", "music"], "--application = 'music': expected voip or audio"),
    ],
)
def test_settings_opus_refuses(flags: list[str], names: str, run_dir: Path) -> None:
    line = one_line_error(
        run_supervisor("start", "--run-dir", str(run_dir), "--codec", "opus", *flags)
    )
    assert names in line


def test_unknown_codec(run_dir: Path) -> None:
    line = one_line_error(run_supervisor("start", "--run-dir", str(run_dir), "--codec", "mp3"))
    assert "--codec = 'mp3': expected pcm or opus" in line


def run_without(code: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_supervisor(*args, env=env_without(code, tmp_path / "site"))


@pytest.mark.parametrize(
    ("missing", "names"), [(NO_OPUSLIB, OPUSLIB_HINT), (NO_LIBOPUS, LIBOPUS_HINT)]
)
def test_codec_unavailable_names_what_to_install(
    missing: str, names: str, tmp_path: Path, run_dir: Path
) -> None:
    result = run_without(missing, tmp_path, "start", "--run-dir", str(run_dir), "--codec", "opus")
    assert names in one_line_error(result)


def test_pcm_runs_without_opuslib(tmp_path: Path, run_dir: Path) -> None:
    """Every child inherits the environment: PCM needs opuslib nowhere."""
    rec = tmp_path / "rec"
    args = ["start", "--run-dir", str(run_dir), "--duration", "1", "--recordings", str(rec)]
    result = run_without(NO_OPUSLIB, tmp_path, *args)
    assert result.returncode == 0, result.stderr
    assert (rec / "main.wav").stat().st_size > 44
