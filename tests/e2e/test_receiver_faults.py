"""The receiver's side of a fault: a SIGKILLed receiver, and two runs into one receiver."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import subprocess
import time
import wave
from pathlib import Path

from receiver.segments import stream_segments
from receiver.wavfile import read_meta
from tests.e2e.test_secure import try_connect
from tests.receiver.segment_client import sox_samples
from tests.receivers import start_receiver, stop_receiver
from tests.support import (
    Ended,
    Procs,
    Run,
    expected_tone,
    read_wav,
    start_supervisor,
    wait_child_pid,
)


def start(procs: Procs, run_dir: Path, *flags: str, report: Path | None = None) -> Run:
    return start_supervisor(procs, run_dir, *flags, report=report, stdout=subprocess.PIPE)


def finish(run: Run) -> Ended:
    ended = run.wait(timeout=90)
    assert ended.code == 0, ended.err
    return ended


def tone_frames_by_seq(rec: Path, stream: str = "main") -> list[int]:
    """Every seq whose exact tone is in one of the stream's segments, with repeats."""
    seqs = []
    for path in stream_segments(rec, stream):
        meta = read_meta(path)
        assert meta is not None
        _, audio = read_wav(path)
        for i in range(len(audio) // 640):
            if audio[i * 640 : (i + 1) * 640] == expected_tone(1, first_seq=meta.first_seq + i):
                seqs.append(meta.first_seq + i)
    return seqs


def test_receiver_sigkilled_mid_run_keeps_every_acked_frame(procs: Procs, run_dir: Path) -> None:
    run = start(procs, run_dir, "--duration", "8")
    rec = run.rec
    pid = wait_child_pid(run_dir, "receiver")
    time.sleep(3)
    os.kill(pid, signal.SIGKILL)
    wait_child_pid(run_dir, "receiver", not_pid=pid)
    report = finish(run).report

    acked = report["frames"]["acked"]
    seqs = tone_frames_by_seq(rec)
    assert len(seqs) == len(set(seqs)), "a frame was written twice"
    assert len(seqs) >= acked > 100
    paths = stream_segments(rec, "main")
    assert [p.name for p in paths][:2] == ["main.wav", "main+1.wav"]  # never truncated
    for path in paths:
        with wave.open(str(path)) as w:
            assert sox_samples(path) == w.getnframes()


def test_a_restarted_capture_keeps_its_epoch_one_segment(procs: Procs, run_dir: Path) -> None:
    run = start(procs, run_dir, "--duration", "5")
    rec = run.rec
    pid = wait_child_pid(run_dir, "capture")
    time.sleep(1.5)
    os.kill(pid, signal.SIGKILL)
    wait_child_pid(run_dir, "capture", not_pid=pid)
    ended = finish(run)
    (path,) = stream_segments(rec, "main")  # the same epoch: seq went on in the same file
    meta = read_meta(path)
    assert meta is not None and meta.epoch > 0 and meta.first_seq == 0
    assert ended.stream()["duplicates"] == 0


def test_the_embedded_receiver_takes_only_its_own_run_token(procs: Procs, run_dir: Path) -> None:
    run = start(procs, run_dir, "--duration", "4")
    wait_child_pid(run_dir, "receiver")
    token = run_dir / "run-token"
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    config = json.loads((run_dir / "receiver.json").read_text())
    url = f"http://127.0.0.1:{config['port']}"
    assert asyncio.run(try_connect(url, None)) is False
    assert asyncio.run(try_connect(url, {"token": token.read_text().strip()})) is True
    ended = finish(run)
    assert ended.report["frames"]["acked"] > 0
    stats = ended.stats
    assert stats["rejected_auth"] == 1 and stats["clients"] >= 2


def test_two_runs_into_one_standalone_receiver_both_land(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    url, receiver = start_receiver(procs, out)
    captured = []
    for n in range(2):
        report = tmp_path / f"r{n}.json"
        run = start(procs, run_dir, "--server", url, "--duration", "2", report=report)
        captured.append(finish(run).report["frames"]["captured"])
    stats = stop_receiver(receiver, out)

    first, second = (read_wav(p)[1] for p in stream_segments(out, "main"))
    assert first == expected_tone(captured[0]) and second == expected_tone(captured[1])
    assert stats["streams"]["main"]["duplicates"] == 0
    assert stats["streams"]["main"]["frames"] == sum(captured)
