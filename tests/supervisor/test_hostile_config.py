"""Config input an operator got wrong, or an attacker wrote: one line and exit 2, never a hang.

Each case goes through the real CLI, both ``check-config`` and ``start``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from supervisor.config.options import MAX_STREAMS
from tests.support import one_line_error, run_supervisor


def both_ways(path: Path, run_dir: Path) -> list[str]:
    """The line from check-config and the line from start, for the same file."""
    checked = one_line_error(run_supervisor("check-config", str(path)))
    started = one_line_error(
        run_supervisor("start", "--config", str(path), "--run-dir", str(run_dir))
    )
    return [checked, started]


def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


def streams(n: int) -> str:
    return "".join(f"[[streams]]\nid = 's{i}'\nsource = 'tone'\n" for i in range(n))


CASES: list[tuple[str, Callable[[Path], str], str]] = [
    ("nested", lambda _: "rate = " + "[" * 50_000 + "]" * 50_000 + "\n", "nested too deeply"),
    ("huge file", lambda _: f"event = '{'x' * (10 << 20)}'\n", "larger than 1048576 bytes"),
    ("not utf-8", lambda _: "event = '\udcff'\n", "not UTF-8 text"),
    ("senders as text", lambda _: "senders = '3'\n", "senders = '3': expected an integer"),
    ("pace as text", lambda _: "pace = 'yes'\n", "pace = 'yes': expected true or false"),
    ("rate as text", lambda _: "rate = '16000'\n", "rate = '16000': expected an integer"),
    ("frame_ms as text", lambda _: "frame_ms = '20'\n", "frame_ms = '20': expected a number"),
    ("too many streams", lambda _: streams(MAX_STREAMS + 1), f"1 to {MAX_STREAMS} [[streams]]"),
    ("fifo token", lambda d: f"auth_token_file = '{fifo(d)}'\n", "not a regular file"),
    ("fifo source", lambda d: f"source = 'file:{fifo(d)}'\n", "not a regular file"),
]


@pytest.mark.parametrize(("make", "says"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_bad_input_is_one_line_and_exit_2(
    make: Callable[[Path], str], says: str, tmp_path: Path, run_dir: Path
) -> None:
    path = tmp_path / "uplink.toml"
    path.write_text(make(tmp_path), errors="surrogateescape")  # lets a case hold a bad byte
    for line in both_ways(path, run_dir):
        assert says in line, line
        assert len(line) < 600, line[:200]  # a value is shortened, never echoed whole


def test_a_long_value_is_shortened_in_the_message(tmp_path: Path, run_dir: Path) -> None:
    path = tmp_path / "uplink.toml"
    path.write_text(f"event = '{'x' * 500_000}'\n")
    for line in both_ways(path, run_dir):
        assert "event = 'xxx" in line and "..." in line, line[:300]
        assert "xxx': expected 1-64 characters" in line
        assert len(line) < 600


def test_a_fifo_as_the_config_file_is_refused(tmp_path: Path) -> None:
    line = one_line_error(run_supervisor("check-config", str(fifo(tmp_path))))
    assert "not a regular file" in line


def test_flags_are_still_converted_from_text(tmp_path: Path, run_dir: Path) -> None:
    path = tmp_path / "uplink.toml"
    path.write_text("senders = 2\npace = false\n")
    line = one_line_error(
        run_supervisor("start", "--config", str(path), "--run-dir", str(run_dir), "--rate", "x")
    )
    assert "--rate = 'x': expected an integer" in line and "string" not in line


def test_the_largest_number_of_streams_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "uplink.toml"
    path.write_text(streams(MAX_STREAMS))
    assert run_supervisor("check-config", str(path)).returncode == 0


@pytest.mark.parametrize("kind", ["file", "symlink"])
def test_run_dir_that_is_not_a_directory_of_our_own(kind: str, tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir(mode=0o700)
    path = tmp_path / "run"
    if kind == "file":
        path.write_text("not a directory\n")
    else:
        path.symlink_to(target)
    line = one_line_error(run_supervisor("start", "--run-dir", str(path), "--duration", "1"))
    assert f"run_dir {path} is" in line and ("symlink" in line) == (kind == "symlink"), line
