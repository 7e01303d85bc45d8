"""How fast the level alarms speak, for bench/audio.py's ``alarms`` section.

A pipeline on a virtual microphone (a PulseAudio daemon of its own, as the
tests start), silence, a tone and a full-scale square wave played into it;
for each alarm, the time from the sound's change to capture's log line (the
line's own timestamp):

- silent raised: from the end of the tone (paplay returned) to the line,
  minus silence_alarm_s (the wait the alarm is configured to make);
- silent cleared: from the start of the tone (paplay started) to the line;
- clipping raised: from the start of the square wave to the line;
- clipping cleared: from its end to the line.

Needs pulseaudio and paplay (scripts/bootstrap.sh installs them).
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from capture_proc.levels import LevelMeter  # noqa: E402
from testkit.alarm_run import AlarmLog, square_wav, tone_wav  # noqa: E402
from testkit.pulse import SINK, Pulse  # noqa: E402

SILENT_RAISED = "silent raised, past silence_alarm_s"
EVENTS = (SILENT_RAISED, "silent cleared", "clipping raised", "clipping cleared")


def meter_cost_us(frames: int = 20_000) -> float:
    """One 20 ms frame of 16 kHz mono noise through LevelMeter.add, in microseconds."""
    meter = LevelMeter(-60.0, 10.0, 16000)
    rng = np.random.default_rng(1)
    frame = rng.normal(0, 3000, 320).astype("<i2").tobytes()
    return 1e6 * timeit.timeit(lambda: meter.add(frame), number=frames) / frames


class _Scene:
    """The pipeline, its alarm lines, and what plays into its microphone."""

    def __init__(self, work: Path, pulse: Pulse, alarm_s: float) -> None:
        self.work, self.pulse, self.alarm_s = work, pulse, alarm_s
        command = [sys.executable, "-m", "supervisor", "start", "--source", "mic"]
        command += ["--run-dir", str(work / "run"), "--recordings", str(work / "rec")]
        command += ["--log-format", "json", "--silence-alarm-s", str(alarm_s)]
        self.proc = subprocess.Popen(
            command,
            env={**os.environ, **pulse.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.log = AlarmLog(self.proc)
        self.tone = tone_wav(work / "tone.wav", 2.0)
        self.square = square_wav(work / "square.wav", 2.0)

    def play(self, wav: Path) -> tuple[float, float]:
        """Play into the sink; (when paplay started, when it returned)."""
        started = time.time()
        subprocess.run(
            ["paplay", f"--device={SINK}", str(wav)],
            env={**os.environ, **self.pulse.env},
            timeout=60,
            check=True,
        )
        return started, time.time()

    def once(self) -> dict[str, float]:
        """One round: tone, silence, square wave, silence; each event's latency in seconds."""
        out: dict[str, float] = {}
        start, end = self.play(self.tone)
        out["silent cleared"] = self.log.wait("alarm silent cleared", start)[0] - start
        raised = self.log.wait("alarm silent raised", end)[0]
        out[SILENT_RAISED] = raised - end - self.alarm_s
        start, end = self.play(self.square)
        out["clipping raised"] = self.log.wait("alarm clipping raised", start)[0] - start
        out["clipping cleared"] = self.log.wait("alarm clipping cleared", end)[0] - end
        self.log.wait("alarm silent raised", end)  # back to the silent state of the start
        return out

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def alarm_latency(repeats: int = 3, alarm_s: float = 2.0) -> list[list[str]]:
    """Rows: each alarm event, its detection latency's median and max over ``repeats``, s."""
    if shutil.which("pulseaudio") is None or shutil.which("paplay") is None:
        raise SystemExit("bench: pulseaudio and paplay are needed (scripts/bootstrap.sh)")
    root = Path(tempfile.mkdtemp(prefix="au-bench-", dir="/tmp"))  # short: a unix socket
    pulse = Pulse(root)
    scene: _Scene | None = None
    try:
        pulse.start()
        scene = _Scene(root, pulse, alarm_s)
        scene.log.wait("alarm silent raised", 0, timeout=60)  # the microphone starts silent
        rounds = [scene.once() for _ in range(repeats)]
    finally:
        if scene is not None:
            scene.stop()
        pulse.stop()
        shutil.rmtree(root, ignore_errors=True)
    return [
        [
            event,
            f"{statistics.median(r[event] for r in rounds):.2f}",
            f"{max(r[event] for r in rounds):.2f}",
        ]
        for event in EVENTS
    ]
