"""Logs: JSON lines that parse, pids in lifecycle lines, quiet per frame."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support import Procs, start_supervisor


def run(
    procs: Procs, run_dir: Path, *flags: str, env: dict[str, str] | None = None
) -> tuple[int, list[str]]:
    ended = start_supervisor(procs, run_dir, *flags, env=env).wait(timeout=90)
    return ended.code, ended.err.splitlines()


def test_json_logs_parse_and_name_every_process(procs: Procs, run_dir: Path) -> None:
    code, lines = run(procs, run_dir, "--log-format", "json", "--duration", "4")
    assert code == 0, lines
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    for entry in entries:
        assert {"ts", "level", "process", "pid", "msg"} <= set(entry), entry
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["ts"])
    assert {"supervisor", "receiver", "sender-1", "capture"} <= {e["process"] for e in entries}
    started = [e["msg"] for e in entries if re.search(r"started \S+ as pid \d+", e["msg"])]
    assert len(started) >= 3, started
    # 4 s is 200 frames; a line per frame at INFO would show here
    assert len(entries) < 60, [e["msg"] for e in entries]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_raw_child_output_is_stamped_with_the_child(procs: Procs, run_dir: Path, fmt: str) -> None:
    code, lines = run(
        procs,
        run_dir,
        "--log-format",
        fmt,
        "--max-restarts",
        "0",
        env={"AUDIO_UPLINK_TEST_CRASH": "capture"},
    )
    assert code == 1
    raw = [line for line in lines if "crashing at start (AUDIO_UPLINK_TEST_CRASH)" in line]
    assert raw, lines
    if fmt == "text":
        assert re.match(r"capture\[\d+\]: capture: crashing at start", raw[0]), raw[0]
    else:
        entry = json.loads(raw[0])
        assert entry["process"] == "capture" and entry["level"] == "STDERR"
        assert isinstance(entry["pid"], int)
