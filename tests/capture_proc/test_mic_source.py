"""MicSource in this process, with every PyAudio and stream it creates counted."""

from __future__ import annotations

import time
from typing import Any

import pytest

from capture_proc import mic, micstream
from capture_proc.micstream import MicSource
from capture_proc.sources import SourceError
from testkit.pulse import Pulse
from tests.support import poll_for


class Ledger:
    """What was opened and what was released."""

    def __init__(self) -> None:
        self.counts = dict.fromkeys(("pyaudio", "terminate", "stream", "stop", "close"), 0)

    def new_pyaudio(self) -> Any:
        pa = mic.new_pyaudio()
        self.counts["pyaudio"] += 1
        pa.terminate = self._counted("terminate", pa.terminate)
        pa.open = self._opening(pa.open)
        return pa

    def _opening(self, open_stream: Any) -> Any:
        def opened(*args: Any, **kwargs: Any) -> Any:
            stream = open_stream(*args, **kwargs)
            self.counts["stream"] += 1
            stream.stop_stream = self._counted("stop", stream.stop_stream)
            stream.close = self._counted("close", stream.close)
            return stream

        return opened

    def _counted(self, key: str, call: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.counts[key] += 1
            return call(*args, **kwargs)

        return counted

    def all_released(self) -> bool:
        c = self.counts
        return c["pyaudio"] == c["terminate"] and c["stream"] == c["stop"] == c["close"]


@pytest.fixture
def ledger(pulse: Pulse, monkeypatch: pytest.MonkeyPatch) -> Ledger:
    for key, value in pulse.env.items():
        monkeypatch.setenv(key, value)
    counted = Ledger()
    monkeypatch.setattr(micstream, "new_pyaudio", counted.new_pyaudio)
    return counted


def frames_within(source: MicSource, seconds: float) -> int:
    count, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        count += source.next_frame(0.05) is not None
    return count


def test_failed_open_releases_portaudio(ledger: Ledger) -> None:
    with pytest.raises(SourceError, match="no input device matches 'no-such-mic'"):
        MicSource("no-such-mic", 16000, 1, 320)
    assert ledger.counts["pyaudio"] == 1 and ledger.all_released()


def test_device_loss_and_close_release_everything(ledger: Ledger, pulse: Pulse) -> None:
    source = MicSource(None, 16000, 1, 320)
    try:
        assert frames_within(source, 1.0) > 0
        pulse.kill()
        poll_for(lambda: ledger.counts["pyaudio"] >= 3, timeout=10)  # retries, device still away
        pulse.start()
        poll_for(lambda: source.counters["device_reopen"] == 1, timeout=15)
        poll_for(lambda: frames_within(source, 0.2) > 0, timeout=10)
    finally:
        source.close()
    assert source.released
    assert ledger.counts["stream"] == 2, ledger.counts
    assert ledger.all_released(), ledger.counts
    assert source.counters["gap_ms"] > 0
