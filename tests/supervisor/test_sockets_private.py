"""Private run directory and sockets; ZeroMQ over tcp:// only with CURVE keys."""

from __future__ import annotations

import stat
from pathlib import Path

import zmq

from tests.support import (
    Procs,
    expected_tone,
    one_line_error,
    poll_for,
    read_wav,
    run_supervisor,
    start_supervisor,
    wait_child_pid,
)
from uplink_runtime.net import free_port


def test_run_dir_and_sockets_are_owner_only(procs: Procs, run_dir: Path) -> None:
    run = start_supervisor(procs, run_dir)
    wait_child_pid(run_dir, "capture")
    socks = poll_for(lambda: len(s := list(run_dir.glob("*.sock"))) >= 3 and s, timeout=30)
    assert stat.S_IMODE(run_dir.stat().st_mode) == 0o700
    for path in [*socks, *run_dir.glob("*.json")]:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, (path, oct(path.stat().st_mode))
    run.stop(timeout=60)


def test_tcp_without_curve_keys_is_refused(run_dir: Path) -> None:
    result = run_supervisor("start", "--run-dir", str(run_dir), "--capture-bind", "tcp://*:5599")
    line = one_line_error(result)
    assert "capture_bind = 'tcp://*:5599'" in line and "needs CURVE keys: set curve_dir" in line


def test_tcp_with_curve_streams_and_shuts_out_strangers(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    keys = tmp_path / "keys"
    assert run_supervisor("curve-keys", str(keys)).returncode == 0
    port = free_port()
    run = start_supervisor(
        procs,
        run_dir,
        *("--capture-bind", f"tcp://127.0.0.1:{port}", "--curve-dir", str(keys)),
        *("--duration", "5"),
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
    ended = run.wait(timeout=60)
    assert ended.code == 0
    report = ended.report
    assert report["frames"]["acked"] > 0 and report["frames"]["unaccounted"] == 0
    _, audio = read_wav(run.rec / "main.wav")
    assert audio == expected_tone(report["frames"]["captured"])
