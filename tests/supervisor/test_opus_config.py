"""codec = opus: settings Opus refuses, a missing opuslib or libopus: exit 2, one line."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.supervisor.test_cli_errors import one_line_error, run
from tests.support import supervisor_cmd


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
    line = one_line_error(run("start", "--run-dir", str(run_dir), "--codec", "opus", *flags))
    assert names in line


def test_unknown_codec(run_dir: Path) -> None:
    line = one_line_error(run("start", "--run-dir", str(run_dir), "--codec", "mp3"))
    assert "--codec = 'mp3': expected pcm or opus" in line


# sitecustomize runs in the child interpreter before the supervisor: it takes away
# what a machine without the opus extra (or without libopus) lacks, nothing else
NO_OPUSLIB = """
import importlib.abc, sys
class _NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "opuslib":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _NotInstalled())
"""
NO_LIBOPUS = """
import ctypes.util
_find = ctypes.util.find_library
ctypes.util.find_library = lambda name: None if name == "opus" else _find(name)
"""


def run_without(code: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "sitecustomize.py").write_text(code)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.run(
        supervisor_cmd(*args), capture_output=True, text=True, timeout=60, check=False, env=env
    )


@pytest.mark.parametrize(
    ("missing", "names"),
    [
        (NO_OPUSLIB, "needs the Python package opuslib: pip install 'audio-uplink[opus]'"),
        (NO_LIBOPUS, "needs the system library libopus: apt-get install libopus0"),
    ],
)
def test_codec_unavailable_names_what_to_install(
    missing: str, names: str, tmp_path: Path, run_dir: Path
) -> None:
    result = run_without(missing, tmp_path, "start", "--run-dir", str(run_dir), "--codec", "opus")
    assert names in one_line_error(result)


def test_pcm_runs_without_opuslib(tmp_path: Path, run_dir: Path) -> None:
    result = run_without(
        NO_OPUSLIB,
        tmp_path,
        "start",
        "--run-dir",
        str(run_dir),
        "--duration",
        "1",
        "--recordings",
        str(tmp_path / "rec"),
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "rec" / "main.wav").stat().st_size > 44
