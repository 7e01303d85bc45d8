"""A PulseAudio daemon of our own: a virtual microphone on a machine with no sound card.

It lives in a given directory and is reached only through the environment
given to the processes started against it (``PULSE_SERVER`` and a
client.conf with ``autospawn = no``); the user's own audio setup is never
read or touched. The microphone tests (tests/capture_proc/conftest.py) and
bench/audio.py use it.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
from pathlib import Path

from testkit.wait import poll_for

SINK, MIC = "uplink_sink", "uplink_mic"
RATE = 16000  # the sink runs at the capture's rate and channel count: no resampling anywhere
_SCRIPT = """\
load-module module-native-protocol-unix auth-anonymous=1 socket={socket}
load-module module-null-sink sink_name={sink} rate={rate} channels=1
load-module module-remap-source master={sink}.monitor source_name={mic} channels=1 \
source_properties=device.description=uplink-virtual-mic
set-default-source {mic}
set-default-sink {sink}
load-module module-null-source source_name=silence rate={rate} channels=1
load-module module-loopback source=silence sink={sink} latency_msec=20
"""


class Pulse:
    """One daemon, restartable on the same socket (to test device loss and return)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "native"
        self.proc: subprocess.Popen[bytes] | None = None
        (root / "client.conf").write_text("autospawn = no\n")
        (root / "default.pa").write_text(
            _SCRIPT.format(socket=self.socket, sink=SINK, mic=MIC, rate=RATE)
        )

    @property
    def env(self) -> dict[str, str]:
        """What a client needs to find this daemon, and only this one."""
        return client_env(self.root, self.socket)

    def start(self) -> None:
        """Start and wait until the virtual microphone delivers audio promptly."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "DISPLAY"))}
        env |= {
            "HOME": str(self.root),
            "XDG_CONFIG_HOME": str(self.root / "config"),
            "XDG_RUNTIME_DIR": str(self.root),
            "PULSE_RUNTIME_PATH": str(self.root / "runtime"),
            "PULSE_STATE_PATH": str(self.root / "state"),
        }
        command = ["pulseaudio", "--daemonize=no", "-n", "-F", str(self.root / "default.pa")]
        command += ["--exit-idle-time=-1", "--use-pid-file=no", "--realtime=no"]
        command += ["--high-priority=no", f"--log-target=file:{self.root / 'pulse.log'}"]
        self.proc = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL)
        poll_for(self._has_mic, timeout=15, interval=0.1)
        self._warm_up()

    def _has_mic(self) -> bool:
        if self.proc is None or self.proc.poll() is not None:
            log = self.root / "pulse.log"
            tail = log.read_text()[-500:] if log.exists() else ""
            raise DaemonError(f"pulseaudio exited: {tail}")
        done = subprocess.run(
            ["pactl", "list", "short", "sources"],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return MIC in done.stdout

    def _warm_up(self) -> None:
        """A fresh sink takes ~2 s before its first buffer; wait for it here, not in each test."""
        command = ["parec", "--raw", f"--device={MIC}", "--latency-msec=20"]
        rec = subprocess.Popen(command, env={**os.environ, **self.env}, stdout=subprocess.PIPE)
        assert rec.stdout is not None
        try:
            ready, _, _ = select.select([rec.stdout], [], [], 10)
            if not ready:
                raise DaemonError("the virtual microphone gave no audio within 10 s")
        finally:
            rec.kill()
            rec.wait(timeout=10)
            rec.stdout.close()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def freeze(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        """SIGTERM (after SIGCONT, in case a test left it frozen), bounded wait, SIGKILL."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.thaw()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()

    def ensure_running(self) -> None:
        """A previous test may have killed or frozen it."""
        self.thaw()
        if self.proc is None or self.proc.poll() is not None:
            self.start()

    def play(self, wav: Path) -> None:
        """Play a WAV into the sink; returns once it has been played (paced in real time)."""
        subprocess.run(
            ["paplay", f"--device={SINK}", str(wav)],
            env={**os.environ, **self.env},
            timeout=60,
            check=True,
        )


class DaemonError(Exception):
    pass


def client_env(root: Path, socket: Path) -> dict[str, str]:
    return {"PULSE_SERVER": f"unix:{socket}", "PULSE_CLIENTCONFIG": str(root / "client.conf")}
