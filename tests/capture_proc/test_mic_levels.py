"""The silent and clipping alarms on the virtual microphone: its log lines, status and metrics.

The test daemon's microphone is digital silence until something is played
into its sink (conftest.py), so a run starts silent.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from testkit.alarm_run import AlarmLog, square_wav, tone_wav
from testkit.pulse import SINK, Pulse
from tests.metrics import scrape, value
from tests.support import Procs, control, live_status, poll_for, start_supervisor
from uplink_runtime.net import free_port

ALARM_S = 2.0


class Run:
    def __init__(self, procs: Procs, run_dir: Path, tmp: Path, pulse: Pulse) -> None:
        self.procs, self.run_dir, self.pulse = procs, run_dir, pulse
        self.port = free_port()
        flags = ["--source", "mic", "--log-format", "json"]
        flags += ["--silence-alarm-s", str(ALARM_S), "--metrics", str(self.port)]
        run = start_supervisor(procs, run_dir, *flags, env=pulse.env)
        self.proc, self.report_path = run.proc, run.report_path
        self.log = AlarmLog(self.proc)

    def play(self, wav: Path) -> subprocess.Popen[str]:
        """Start playing into the microphone's sink; the caller waits for it."""
        command = ["paplay", f"--device={SINK}", str(wav)]
        return self.procs.start(command, env=self.pulse.env)

    def levels(self) -> dict[str, Any]:
        rows = live_status(self.run_dir).get("processes", [])
        row = next((r for r in rows if r["name"] == "capture" and r["state"] == "running"), None)
        return dict(row["levels"] or {}) if row and row.get("levels") else {}

    def alarm_metric(self, kind: str) -> float | None:
        return value(scrape(self.port), "audio_uplink_alarm", stream="main", kind=kind)

    def status_table(self) -> str:
        return control("status", run_dir=self.run_dir).stdout

    def stop(self) -> dict[str, Any]:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        assert self.proc.returncode == 0, self.log.tail()
        report: dict[str, Any] = json.loads(self.report_path.read_text())
        return report


def test_silence_raises_silent_in_time_and_sound_clears_it(
    pulse: Pulse, procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    run = Run(procs, run_dir, tmp_path, pulse)
    run.log.wait("alarm silent raised", after=0, timeout=60)  # the microphone starts silent
    poll_for(lambda: run.levels().get("alarms") == ["silent"], timeout=10)
    assert run.levels()["rms_db"] == -120.0
    capture_row = next(r for r in run.status_table().splitlines() if r.startswith("capture"))
    assert "-120/-120 SILENT" in capture_row, capture_row
    poll_for(lambda: run.alarm_metric("silent") == 1, timeout=10)

    playing = run.play(tone_wav(tmp_path / "tone.wav", 4.0, dbfs=-12.5))
    started = time.time()
    cleared, _ = run.log.wait("alarm silent cleared", after=started - 1, timeout=30)
    poll_for(lambda: run.levels().get("alarms") == [], timeout=10)
    poll_for(lambda: run.alarm_metric("silent") == 0, timeout=10)
    assert playing.wait(timeout=30) == 0
    ended = time.time()

    raised, message = run.log.wait("alarm silent raised", after=cleared, timeout=30)
    assert ALARM_S - 0.5 <= raised - ended <= ALARM_S + 1, (raised - ended, message)
    report = run.stop()
    levels = report["levels"]["main"]
    assert levels["alarms_raised"] == {"silent": 2, "clipping": 0}, levels
    # the tone: -12.5 dBFS peak, -15.5 dBFS RMS; the report's levels are to 2 dB steps
    assert levels["rms_db"]["min"] == -120 and -17 <= levels["rms_db"]["max"] <= -14, levels
    assert -14 <= levels["peak_db"]["max"] <= -11, levels
    assert "level." not in "".join(report["capture"])


def test_full_scale_square_wave_raises_clipping(
    pulse: Pulse, procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    run = Run(procs, run_dir, tmp_path, pulse)
    run.log.wait("alarm silent raised", after=0, timeout=60)  # running, and measuring
    playing = run.play(square_wav(tmp_path / "square.wav", 3.0))
    started = time.time()
    raised, message = run.log.wait("alarm clipping raised", after=started - 1, timeout=30)
    percent = float(message.split("raised: ")[1].split(" %")[0])
    assert percent >= 50 and "of the last second's samples at full scale" in message, message
    poll_for(lambda: "clipping" in run.levels().get("alarms", []), timeout=10)
    assert run.levels()["peak_db"] == 0.0
    poll_for(lambda: run.alarm_metric("clipping") == 1, timeout=10)
    assert playing.wait(timeout=30) == 0
    ended = time.time()

    cleared, _ = run.log.wait("alarm clipping cleared", after=raised, timeout=30)
    assert cleared - ended <= 2 + 1  # the first whole clean second, and a margin
    samples = scrape(run.port)
    assert value(samples, "audio_uplink_alarms_raised_total", stream="main", kind="clipping") == 1
    report = run.stop()
    levels = report["levels"]["main"]
    assert levels["alarms_raised"]["clipping"] == 1, levels
    assert levels["peak_db"]["max"] == 0 and levels["rms_db"]["max"] == 0, levels
    assert os.path.exists(run.report_path)
