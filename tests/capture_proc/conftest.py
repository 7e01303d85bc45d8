"""The microphone tests' PulseAudio daemon (testkit/pulse.py), one per module, in a temp directory.

Under ``CI=true`` a daemon that cannot start fails the tests instead of
skipping them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.pulse import DaemonError, Pulse, client_env


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the microphone tests, but {reason}")
    print(f"skipping the microphone tests: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def pulse_daemon() -> Iterator[Pulse]:
    if shutil.which("pulseaudio") is None or shutil.which("paplay") is None:
        _skip_or_fail("pulseaudio/paplay are not installed (scripts/bootstrap.sh installs them)")
    root = Path(tempfile.mkdtemp(prefix="au-pa-", dir="/tmp"))  # short: a unix socket path
    daemon = Pulse(root)
    try:
        try:
            daemon.start()
        except (DaemonError, AssertionError, OSError, subprocess.SubprocessError) as exc:
            _skip_or_fail(f"no PulseAudio daemon could start: {exc}")
        yield daemon
    finally:
        daemon.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pulse(pulse_daemon: Pulse) -> Pulse:
    """The module's daemon, running and not frozen, whatever the previous test did to it."""
    pulse_daemon.ensure_running()
    return pulse_daemon


@pytest.fixture
def no_audio_env(tmp_path: Path) -> dict[str, str]:
    """An environment in which no audio server can be found or spawned."""
    (tmp_path / "client.conf").write_text("autospawn = no\n")
    return client_env(tmp_path, tmp_path / "no-such-socket")
