"""The microphone source, through PyAudio (PortAudio)."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

from capture_proc.sources import SourceError


def _quiet_pyaudio() -> Any:
    """Import PyAudio and create an instance with ALSA's probe chatter on stderr muted."""
    import pyaudio

    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            return pyaudio.PyAudio()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        sys.stderr.flush()


def input_devices(pa: Any) -> list[dict[str, Any]]:
    devices = []
    for index in range(pa.get_device_count()):
        info = pa.get_device_info_by_index(index)
        if info.get("maxInputChannels", 0) > 0:
            devices.append(info)
    return devices


def find_device(pa: Any, device: str | None) -> dict[str, Any]:
    """Default input, an index, or a case-insensitive name substring."""
    if device is None:
        try:
            info: dict[str, Any] = pa.get_default_input_device_info()
        except OSError:
            raise SourceError(
                "no input device available: see `supervisor devices`, or use --source tone"
            ) from None
        return info
    devices = input_devices(pa)
    if device.isdigit():
        matches = [d for d in devices if d["index"] == int(device)]
    else:
        matches = [d for d in devices if device.lower() in str(d["name"]).lower()]
    if not matches:
        raise SourceError(f"no input device matches {device!r}: see `supervisor devices`")
    return matches[0]


class MicSource:
    paced_by_device = True

    def __init__(self, device: str | None, rate: int, channels: int, samples: int) -> None:
        self._pa = _quiet_pyaudio()
        self._stream: Any = None
        try:
            info = find_device(self._pa, device)
            self._stream = self._pa.open(
                format=self._pa.get_format_from_width(2),
                channels=channels,
                rate=rate,
                input=True,
                input_device_index=info["index"],
                frames_per_buffer=samples,
            )
        except OSError as exc:
            self.close()
            raise SourceError(
                f"cannot open input device at {rate} Hz {channels} ch: {exc}"
            ) from None
        except SourceError:
            self.close()
            raise
        self.samples = samples

    def read(self, seq: int) -> bytes:
        data: bytes = self._stream.read(self.samples, exception_on_overflow=False)
        return data

    def close(self) -> None:
        if self._stream is not None:
            with contextlib.suppress(OSError):
                self._stream.stop_stream()
                self._stream.close()
            self._stream = None
        self._pa.terminate()
