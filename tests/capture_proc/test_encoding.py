"""capture_proc with codec opus: it PUSHes Opus frames, or exits 2 when it has no codec."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zmq

from capture_proc.config import CaptureConfig
from tests.opus_support import NO_OPUSLIB, OPUSLIB_HINT, env_without
from tests.support import Procs, expected_tone
from uplink_frame import Frame, decode
from uplink_frame.codec import decoder_for
from uplink_runtime.child import ChildSpec, save_config
from uplink_runtime.roles import Role

FRAMES = 25


@pytest.fixture
def frames_socket(run_dir: Path) -> Iterator[tuple[zmq.Socket[Any], str]]:
    """A sender's place: a PULL socket on the capture's endpoint."""
    run_dir.mkdir(parents=True)
    endpoint = f"ipc://{run_dir}/capture.sock"
    ctx: zmq.Context[Any] = zmq.Context()
    sock = ctx.socket(zmq.PULL)
    sock.linger = 0
    sock.connect(endpoint)
    try:
        yield sock, endpoint
    finally:
        sock.close()
        ctx.term()


def start(procs: Procs, run_dir: Path, endpoint: str, env: dict[str, str]) -> Any:
    spec = ChildSpec("capture", Role.CAPTURE, f"ipc://{run_dir}/stats.sock", os.getpid())
    config = CaptureConfig(spec, "main", "tone", endpoint, codec="opus", bitrate=24000)
    save_config(config, run_dir / "capture.json")
    command = [sys.executable, "-m", "capture_proc", "--config", str(run_dir / "capture.json")]
    return procs.start(command, env=env, stderr=subprocess.PIPE)


def test_capture_pushes_opus_frames_that_decode_to_the_tone(
    procs: Procs, run_dir: Path, frames_socket: tuple[zmq.Socket[Any], str]
) -> None:
    sock, endpoint = frames_socket
    start(procs, run_dir, endpoint, {})
    frames: list[Frame] = []
    while len(frames) < FRAMES:
        assert sock.poll(10_000), "no frame from capture within 10 s"
        frames.append(decode(sock.recv()))
    assert [f.seq for f in frames] == list(range(FRAMES))
    assert all(f.codec == "opus" and f.samples == 320 for f in frames)
    assert all(len(f.audio) < 640 // 4 for f in frames)  # compressed, not PCM in disguise
    decoder = decoder_for(frames[0], {})
    got = np.frombuffer(b"".join(decoder.pcm(f) for f in frames), "<i2").astype(float)
    ref = np.frombuffer(expected_tone(FRAMES), "<i2").astype(float)
    lag = 104  # the encoder's lookahead at 16 kHz
    a, b = got[1600 + lag :], ref[1600 : len(ref) - lag]
    assert np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)) >= 0.9


def test_capture_without_opuslib_exits_2_in_one_line(
    procs: Procs, run_dir: Path, frames_socket: tuple[zmq.Socket[Any], str], tmp_path: Path
) -> None:
    _, endpoint = frames_socket
    proc = start(procs, run_dir, endpoint, env_without(NO_OPUSLIB, tmp_path / "site"))
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert stderr.strip() == f"capture: codec opus {OPUSLIB_HINT}"
