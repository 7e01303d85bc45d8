"""Private run directory and sockets; ZeroMQ over tcp:// only with CURVE keys."""

from __future__ import annotations

import json
import signal
import stat
import subprocess
from pathlib import Path

import zmq

from testkit.net import free_port
from tests.support import (
    Procs,
    expected_tone,
    poll_for,
    read_wav,
    supervisor_cmd,
    wait_child_pid,
)


def test_run_dir_and_sockets_are_owner_only(procs: Procs, run_dir: Path, tmp_path: Path) -> None:
    proc = procs.start(
        supervisor_cmd("start", "--run-dir", str(run_dir), "--recordings", str(tmp_path / "r")),
        stdout=subprocess.DEVNULL,
    )
    wait_child_pid(run_dir, "capture")
    socks = poll_for(lambda: len(s := list(run_dir.glob("*.sock"))) >= 3 and s, timeout=30)
    assert stat.S_IMODE(run_dir.stat().st_mode) == 0o700
    for path in [*socks, *run_dir.glob("*.json")]:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, (path, oct(path.stat().st_mode))
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)


def test_tcp_without_curve_keys_is_refused(run_dir: Path) -> None:
    result = subprocess.run(
        supervisor_cmd("start", "--run-dir", str(run_dir), "--capture-bind", "tcp://*:5599"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "capture_bind = 'tcp://*:5599'" in line and "needs CURVE keys: set curve_dir" in line


def test_tcp_with_curve_streams_and_shuts_out_strangers(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    keys = tmp_path / "keys"
    subprocess.run(supervisor_cmd("curve-keys", str(keys)), check=True, timeout=60)
    port = free_port()
    rec, rep = tmp_path / "rec", tmp_path / "r.json"
    proc = procs.start(
        supervisor_cmd(
            "start",
            "--run-dir",
            str(run_dir),
            "--recordings",
            str(rec),
            "--report",
            str(rep),
            "--capture-bind",
            f"tcp://127.0.0.1:{port}",
            "--curve-dir",
            str(keys),
            "--duration",
            "5",
        ),
        stdout=subprocess.DEVNULL,
    )
    wait_child_pid(run_dir, "capture")
    ctx = zmq.Context()
    try:
        with ctx.socket(zmq.PULL) as stranger:  # no keys: the handshake must fail
            stranger.linger = 0
            stranger.connect(f"tcp://127.0.0.1:{port}")
            assert stranger.poll(2000) == 0
    finally:
        ctx.term()
    proc.communicate(timeout=60)
    assert proc.returncode == 0
    report = json.loads(rep.read_text())
    assert report["frames"]["acked"] > 0 and report["frames"]["unaccounted"] == 0
    _, audio = read_wav(rec / "main.wav")
    assert audio == expected_tone(report["frames"]["captured"])
