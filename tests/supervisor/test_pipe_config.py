"""pipe: sources and their input_* keys: a bad one is one line and exit code 2."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support import one_line_error, supervisor_cmd


def start(run_dir: Path, *flags: str, **kwargs: Any) -> str:
    done = subprocess.run(
        supervisor_cmd("start", "--run-dir", str(run_dir), *flags),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        **{"stdin": subprocess.DEVNULL, **kwargs},
    )
    return one_line_error(done)


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--input-rate", "48000"], "input_rate: only for a pipe: source"),
        (["--source", "mic", "--input-channels", "2"], "input_channels: only for a pipe: source"),
        (["--source", "pipe:-", "--input-format", "s24le"], "expected s16le or f32le"),
        (["--source", "pipe:-", "--input-rate", "7"], "--input-rate = '7': expected an integer"),
        (["--source", "pipe:-", "--input-channels", "9"], "from 1 to 8"),
        (["--source", "pipe:/nonexistent.pcm"], "pipe:/nonexistent.pcm: No such file"),
        (["--source", "pipe:/dev/null"], "not a FIFO (mkfifo) nor a regular file"),
        (["--source", "pipe:"], "--source = 'pipe:': expected"),
    ],
)
def test_bad_pipe_settings(flags: list[str], says: str, run_dir: Path) -> None:
    assert says in start(run_dir, *flags)


def test_stdin_feeds_one_stream_only(tmp_path: Path, run_dir: Path) -> None:
    config = tmp_path / "two.toml"
    config.write_text(
        '[[streams]]\nid = "a"\nsource = "pipe:-"\n[[streams]]\nid = "b"\nsource = "pipe:-"\n'
    )
    assert "stdin can feed one stream only" in start(run_dir, "--config", str(config))


def test_a_terminal_on_stdin_is_refused_with_an_example(run_dir: Path) -> None:
    main, tty = os.openpty()
    try:
        line = start(run_dir, "--source", "pipe:-", stdin=tty)
    finally:
        os.close(main)
        os.close(tty)
    assert "stdin is a terminal" in line and "arecord" in line
