"""The capture process and MicSource on their own: heartbeats, hangs, releasing the device."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq

from capture_proc.config import CaptureConfig
from capture_proc.convert import AudioFormat
from capture_proc.mic import Device, choose_format
from capture_proc.sources import SourceError
from testkit.pulse import Pulse
from tests.support import Procs, poll_for
from uplink_runtime.child import ChildSpec, decode_heartbeat, save_config
from uplink_runtime.roles import Role


class Capture:
    """``python -m capture_proc`` with the test in the supervisor's place."""

    def __init__(self, procs: Procs, ctx: zmq.Context[Any], run_dir: Path, env: dict[str, str]):
        run_dir.mkdir(parents=True, exist_ok=True)
        stats, frames = f"ipc://{run_dir}/stats.sock", f"ipc://{run_dir}/capture.sock"
        self.stats = ctx.socket(zmq.PULL)
        self.stats.linger = 0
        self.stats.bind(stats)
        self.frames = ctx.socket(zmq.PULL)  # a sender's place: capture waits for one
        self.frames.linger = 0
        self.frames.connect(frames)
        spec = ChildSpec("capture", Role.CAPTURE, stats, os.getpid())
        save_config(CaptureConfig(spec, "main", "mic", frames), run_dir / "capture.json")
        command = [sys.executable, "-m", "capture_proc", "--config", str(run_dir / "capture.json")]
        self.proc = procs.start(command, env=env, stderr=subprocess.PIPE)
        self.last: dict[str, Any] = {}

    def beats(self, seconds: float) -> list[dict[str, Any]]:
        """Every heartbeat for ``seconds``; frames are drained and thrown away."""
        got, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self.stats.poll(int(left * 1000) + 1):
                got.append(decode_heartbeat(self.stats.recv()))
                self.last = got[-1]
            while self.frames.poll(0):
                self.frames.recv()
        return got

    def wait_for(self, condition: Callable[[dict[str, Any]], bool], timeout: float = 15) -> None:
        def met() -> bool:
            self.beats(0.05)
            return bool(self.last) and condition(self.last)

        poll_for(met, timeout)

    def stop(self, timeout: float) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        assert self.proc.stderr is not None
        return code, self.proc.stderr.read()

    def close(self) -> None:
        self.stats.close()
        self.frames.close()


StartCapture = Callable[[dict[str, str]], Capture]


@pytest.fixture
def start_capture(procs: Procs, run_dir: Path) -> Iterator[StartCapture]:
    ctx: zmq.Context[Any] = zmq.Context()
    started: list[Capture] = []

    def start(env: dict[str, str]) -> Capture:
        started.append(Capture(procs, ctx, run_dir, env))
        return started[-1]

    try:
        yield start
    finally:
        procs.cleanup()
        for capture in started:
            capture.close()
        ctx.term()


def captured(beat: dict[str, Any]) -> int:
    return int(beat["counters"]["captured"])


def test_stop_releases_the_stream_and_portaudio(pulse: Pulse, start_capture: StartCapture) -> None:
    capture = start_capture(pulse.env)
    capture.wait_for(lambda beat: captured(beat) >= 10)
    code, err = capture.stop(timeout=10)
    assert code == 0, err
    assert err.count("stream closed, PortAudio terminated") == 1, err
    assert "ALSA lib" not in err  # the C libraries' probe noise is muted


def test_frozen_server_capture_heartbeats_on_and_exits(
    pulse: Pulse, start_capture: StartCapture
) -> None:
    capture = start_capture(pulse.env)
    capture.wait_for(lambda beat: captured(beat) >= 10)
    pulse.freeze()
    try:
        # 1 s without audio, then the close hangs in PortAudio: the device thread is stuck
        capture.wait_for(lambda beat: beat["info"]["device_state"] == "closing", timeout=10)
        beats = capture.beats(1.5)
        assert len(beats) >= 4, "heartbeats must go on while the device is frozen"
        assert {captured(b) for b in beats} == {captured(beats[0])}, "captured must not advance"
        # stuck in PortAudio for over CALL_HANG_S: not "waiting", so the watchdog may act
        assert beats[-1]["info"]["waiting"] is False
        started = time.monotonic()
        code, err = capture.stop(timeout=10)
        assert code == 0, err
        assert time.monotonic() - started < 0.5 + 1  # the watchdog's SIGKILL comes at 0.5 s
        assert "exiting without closing it" in err
    finally:
        pulse.thaw()


def test_no_device_in_the_capture_process_is_one_line(
    no_audio_env: dict[str, str], start_capture: StartCapture
) -> None:
    capture = start_capture(no_audio_env)
    assert capture.proc.wait(timeout=30) == 2
    assert capture.proc.stderr is not None
    assert capture.proc.stderr.read().splitlines() == [
        "capture: no audio input device found: see `supervisor devices`, or use --source tone"
    ]


@pytest.mark.parametrize(("spec", "name"), [("PULS", "pulse"), ("1", "default"), ("-", "default")])
def test_device_by_index_or_name_part(pulse: Pulse, spec: str, name: str) -> None:
    command = [sys.executable, "-m", "capture_proc.probe", "check", spec, "16000", "1", "20"]
    done = subprocess.run(
        command,
        env={**os.environ, **pulse.env},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert json.loads(done.stdout)["device"]["name"] == name


class _OnlyStereo48k:
    """A PyAudio stand-in for a device that takes only 48 kHz, up to 2 channels."""

    def get_format_from_width(self, width: int) -> int:
        return 8

    def is_format_supported(self, rate: int, **kwargs: int) -> bool:
        if rate != 48000:
            raise ValueError("Invalid sample rate", -9997)
        return True


def test_a_device_that_cannot_do_the_format_is_opened_at_one_it_can_and_converted() -> None:
    device = Device(3, "USB Mic", 2, 48000, True)
    assert choose_format(_OnlyStereo48k(), device, 16000, 1, 0.02) == AudioFormat(48000, 1)
    assert choose_format(_OnlyStereo48k(), device, 48000, 2, 0.02) == AudioFormat(48000, 2)


class _OnlyStereo:
    """A device that records stereo only, at any rate."""

    def get_format_from_width(self, width: int) -> int:
        return 8

    def is_format_supported(self, rate: int, **kwargs: int) -> bool:
        if kwargs["input_channels"] != 2:
            raise ValueError("Invalid number of channels", -9998)
        return True


def test_mixing_down_alone_keeps_the_stream_rate() -> None:
    device = Device(3, "USB Mic", 2, 48000, True)
    assert choose_format(_OnlyStereo(), device, 16000, 1, 0.02) == AudioFormat(16000, 2)


class _OnlyStereo48kInt:
    """Takes 48 kHz stereo and nothing else."""

    def get_format_from_width(self, width: int) -> int:
        return 8

    def is_format_supported(self, rate: int, **kwargs: int) -> bool:
        if rate != 48000 or kwargs["input_channels"] != 2:
            raise ValueError("Invalid sample rate", -9997)
        return True


def test_format_mismatch_names_device_request_and_what_it_supports() -> None:
    # 2 ch cannot be mixed into 4 (only to mono, or mono to any): nothing convertible
    device = Device(3, "USB Mic", 2, 48000, True)
    with pytest.raises(SourceError) as raised:
        choose_format(_OnlyStereo48kInt(), device, 16000, 4, 0.02)
    message = str(raised.value)
    assert "3 'USB Mic'" in message
    assert "16000 Hz 4 ch" in message
    assert "2 input channel(s), default rate 48000 Hz, and takes 48000 Hz" in message
