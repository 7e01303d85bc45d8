"""Several streams, several senders: order restored at the receiver, no gap when a sender dies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.evidence import assert_report_matches_server, assert_tone_with_gaps
from tests.support import (
    Procs,
    expected_tone,
    read_wav,
    scale,
    start_supervisor,
    wait_child_pid,
    wait_running_senders,
)

HWM_FRAMES = 50
TONES = {"a": 440, "b": 550, "c": 660, "d": 880}


def start(
    procs: Procs, run_dir: Path, tmp_path: Path, toml: str, *args: str
) -> subprocess.Popen[str]:
    config = tmp_path / "uplink.toml"
    config.write_text(toml)
    rec, report = tmp_path / "rec", tmp_path / "r.json"
    run = start_supervisor(
        procs,
        run_dir,
        "--config",
        str(config),
        *args,
        rec=rec,
        report=report,
        stdout=subprocess.PIPE,
    )
    return run.proc


def finish(proc: subprocess.Popen[str], tmp_path: Path) -> dict[str, Any]:
    _, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    assert "Traceback" not in err, err
    return dict(json.loads((tmp_path / "r.json").read_text()))


def streams_toml(senders: int) -> str:
    tables = "".join(f'[[streams]]\nid = "{s}"\nsource = "tone:{hz}"\n' for s, hz in TONES.items())
    return f"senders = {senders}\n{tables}"


def test_four_streams_three_senders_every_wav_exact(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    report = finish(start(procs, run_dir, tmp_path, streams_toml(3), "--duration", "10"), tmp_path)
    assert report["frames"]["unaccounted"] == 0
    assert {f"sender-{i}" for i in (1, 2, 3)} <= set(report["processes"])
    stats = json.loads((tmp_path / "rec" / "stats.json").read_text())["streams"]
    for stream, hz in TONES.items():
        _, audio = read_wav(tmp_path / "rec" / f"{stream}.wav")
        frames = stats[stream]["frames"]
        assert frames >= 400 and stats[stream]["missing"] == 0
        assert audio == expected_tone(frames, hz=hz), stream
    # every sender carried a share: the load really was spread
    assert all(report["processes"][f"sender-{i}"]["cpu_s"] > 0 for i in (1, 2, 3))


def test_killing_one_of_three_senders_repeatedly(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    proc = start(procs, run_dir, tmp_path, "senders = 3\n", "--duration", "9")
    kills, pid = 3, None
    for _ in range(kills):
        pid = wait_child_pid(run_dir, "sender-2", not_pid=pid)
        time.sleep(1.5)
        os.kill(pid, signal.SIGKILL)
    wait_child_pid(run_dir, "sender-2", not_pid=pid)
    report = finish(proc, tmp_path)
    frames = report["frames"]
    assert report["processes"]["sender-2"]["restarts"] == kills
    assert report["processes"]["sender-1"]["restarts"] == 0
    # capture knows every frame's fate: a killed sender's lost heartbeat costs nothing
    assert frames["unaccounted"] == 0, frames
    stream = json.loads((tmp_path / "rec" / "stats.json").read_text())["streams"]["main"]
    lost = frames["captured"] - frames["acked"]
    assert stream["missing"] <= lost  # every gap in the WAV is a frame the report accounts for
    assert_report_matches_server(report, tmp_path / "rec")
    assert stream["next_seq"] >= frames["captured"] - HWM_FRAMES  # the stream went on


def test_scale_senders_up_and_down_loses_nothing(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    proc = start(procs, run_dir, tmp_path, "senders = 1\n", "--duration", "60")
    wait_child_pid(run_dir, "capture")
    for n in (4, 2):
        time.sleep(1.5)
        scale(run_dir, n)
        wait_running_senders(run_dir, n)
    time.sleep(1.5)
    proc.send_signal(signal.SIGTERM)
    report = finish(proc, tmp_path)
    stream = json.loads((tmp_path / "rec" / "stats.json").read_text())["streams"]["main"]
    frames, dropped = report["frames"], report["frames"]["dropped"]
    assert frames["unaccounted"] == 0, frames
    # A retiring sender sends what it holds and tells capture it leaves; what
    # its ZeroMQ pipe held, capture pushes again (docs/delivery.md)
    assert sum(dropped.values()) == 0, (frames, stream)
    assert stream["missing"] == 0, (frames, stream)
    # every frame is in the file once, at its own place: the tone with no gap
    assert assert_tone_with_gaps(tmp_path / "rec") == [], stream
