"""The whole pipeline through real processes, ZeroMQ and Socket.IO."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from tests.evidence import assert_report_matches_server
from tests.support import (
    Procs,
    expected_tone,
    poll_for,
    read_wav,
    start_supervisor,
    wait_child_pid,
)

WINDOW = 8
HWM_FRAMES = 50  # default hwm_ms 1000 / frame_ms 20


def test_tone_arrives_bit_for_bit_and_report_adds_up(procs: Procs, run_dir: Path) -> None:
    run = start_supervisor(
        procs, run_dir, "--source", "tone", "--duration", "5", stdout=subprocess.PIPE
    )
    ended = run.wait(timeout=60)
    rec = run.rec
    assert ended.code == 0, ended.out
    assert "unaccounted 0" in ended.out

    report = ended.report
    frames = report["frames"]
    assert frames["captured"] >= 200  # 5 s of 20 ms frames, less start-up slack
    assert frames["unaccounted"] == 0
    assert frames["acked"] == frames["captured"] == frames["sent"]
    assert_report_matches_server(report, rec)
    assert set(report["processes"]) == {"capture", "sender-1", "receiver"}
    assert all(p["restarts"] == 0 and p["max_rss_mb"] > 0 for p in report["processes"].values())
    assert 0 < report["latency_ms"]["p50"] <= report["latency_ms"]["p99"]

    params, audio = read_wav(rec / "main.wav")
    assert (params.framerate, params.nchannels, params.sampwidth) == (16000, 1, 2)
    assert audio == expected_tone(frames["captured"])
    stats = ended.stream()
    assert stats["first_seq"] == 0 and stats["missing"] == 0 and stats["duplicates"] == 0


def test_external_server(
    procs: Procs,
    run_dir: Path,
    external_receiver: tuple[str, Path, subprocess.Popen[str]],
) -> None:
    url, out, receiver = external_receiver
    flags = ("--server", url, "--duration", "3", "--stream", "ext")
    run = start_supervisor(procs, run_dir, *flags, stdout=subprocess.PIPE)
    ended = run.wait(timeout=60)
    assert ended.code == 0

    report = ended.report
    assert set(report["processes"]) == {"capture", "sender-1"}
    assert report["frames"]["unaccounted"] == 0
    receiver.send_signal(signal.SIGTERM)
    receiver.wait(timeout=10)
    _, audio = read_wav(out / "ext.wav")
    assert audio == expected_tone(report["frames"]["captured"])


def test_sender_killed_is_restarted_and_stream_continues(procs: Procs, run_dir: Path) -> None:
    run = start_supervisor(procs, run_dir, "--duration", "6", stdout=subprocess.PIPE)
    rec = run.rec
    sender = wait_child_pid(run_dir, "sender-1")
    poll_for(
        lambda: (rec / "main.wav").exists() and (rec / "main.wav").stat().st_size > 20000,
        timeout=20,
    )
    os.kill(sender, signal.SIGKILL)
    ended = run.wait(timeout=60)
    assert ended.code == 0

    report = ended.report
    assert report["processes"]["sender-1"]["restarts"] == 1
    assert "killed by SIGKILL" in report["processes"]["sender-1"]["exits"]
    assert_report_matches_server(report, rec)
    frames = report["frames"]
    assert 0 <= frames["unaccounted"] <= WINDOW + HWM_FRAMES
    stats = ended.stream()
    assert stats["missing"] <= WINDOW + HWM_FRAMES + sum(frames["dropped"].values())
    # the replacement carried the stream on to the end
    assert stats["next_seq"] >= frames["captured"] - HWM_FRAMES
    assert stats["frames"] >= frames["acked"] - WINDOW


def test_unpaced_tone_runs_faster_than_real_time_without_dropping(
    procs: Procs, run_dir: Path
) -> None:
    """--no-pace: capture waits for room, the sender holds back, nothing is made to be dropped."""
    run = start_supervisor(procs, run_dir, "--no-pace", "--duration", "3")
    ended = run.wait(timeout=60)
    assert ended.code == 0
    report = ended.report
    frames, dropped = report["frames"], report["frames"]["dropped"]
    assert frames["acked"] > 2 * 150  # more than twice real time (3 s = 150 frames)
    assert frames["unaccounted"] == 0, frames
    # a clean stop delivers what the ZeroMQ pipes held too: capture pushes until
    # every frame has a fate (docs/delivery.md)
    assert sum(dropped.values()) == 0, frames
    stats = ended.stream()
    assert stats["missing"] == 0 and stats["frames"] == frames["acked"]
    _, audio = read_wav(run.rec / "main.wav")
    assert audio == expected_tone(frames["acked"])
