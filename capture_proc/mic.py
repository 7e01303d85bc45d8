"""PortAudio (through PyAudio) as the microphone source sees it: devices, formats, streams.

Every call here may block for as long as the audio server does; only the
device worker thread (``capture_proc.micstream``) and the short-lived probe
process (``capture_proc.probe``) make them.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from capture_proc.convert import AudioFormat, mixable
from capture_proc.sources import SourceError

logger = logging.getLogger(__name__)

COMMON_RATES = (8000, 11025, 16000, 22050, 32000, 44100, 48000, 88200, 96000)
NO_DEVICE = "no audio input device found: see `supervisor devices`, or use --source tone"
AudioCallback = Callable[[bytes | None, int, dict[str, float], int], tuple[None, int]]


@dataclass(frozen=True)
class Device:
    index: int
    name: str
    channels: int
    rate: int
    default: bool

    def __str__(self) -> str:
        return f"{self.index} {self.name!r}"


def mute_native_stderr() -> None:
    """Send fd 2 to /dev/null for good; Python's own stderr keeps the real one.

    ALSA and JACK print dozens of probe errors from C each time PortAudio
    starts, and PortAudio may start while the audio server is frozen: a mute
    just around that call could then never be undone and would swallow this
    process's own log lines.
    """
    real = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    stream = open(real, "w", buffering=1, closefd=True)  # lives as long as the process
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stderr:
            handler.setStream(stream)
    sys.stderr = stream


def new_pyaudio() -> Any:
    """Initialise PortAudio: enumerates devices, so it blocks while the audio server does."""
    import pyaudio

    return pyaudio.PyAudio()


def input_devices(pa: Any) -> list[Device]:
    try:
        default = int(pa.get_default_input_device_info()["index"])
    except OSError:
        default = -1
    devices = []
    for index in range(pa.get_device_count()):
        info = pa.get_device_info_by_index(index)
        if info.get("maxInputChannels", 0) > 0:
            channels, rate = int(info["maxInputChannels"]), int(info["defaultSampleRate"])
            devices.append(Device(index, str(info["name"]), channels, rate, index == default))
    return devices


def find_device(pa: Any, spec: str | None) -> Device:
    """The default input (spec None), an index, or a case-insensitive name substring."""
    devices = input_devices(pa)
    if spec is None:
        matches = [d for d in devices if d.default]
    elif spec.isdigit():
        matches = [d for d in devices if d.index == int(spec)]
    else:
        exact = [d for d in devices if d.name == spec]
        matches = exact or [d for d in devices if spec.lower() in d.name.lower()]
    if matches:
        return matches[0]
    if not devices:
        raise SourceError(NO_DEVICE)
    raise SourceError(f"no input device matches {spec!r}: see `supervisor devices`")


def choose_format(pa: Any, device: Device, rate: int, channels: int, frame_s: float) -> AudioFormat:
    """The stream's format if the device takes it, else the nearest one it takes, converted
    (capture_proc.convert): the stream's rate first (mixing needs no resampler), then the
    device's own rate, then the rates nearest above the stream's. SourceError if none."""
    usable = [c for c in dict.fromkeys((channels, device.channels, 1)) if c <= device.channels]
    usable = [c for c in usable if mixable(c, channels)]
    above = sorted(COMMON_RATES, key=lambda r: (r < rate, abs(r - rate)))
    for r in dict.fromkeys((rate, device.rate, *above)):
        if abs(r * frame_s - round(r * frame_s)) > 1e-6:
            continue  # a buffer of one frame time must be whole samples
        for c in usable:
            if _supports(pa, device, r, c):
                return AudioFormat(r, c)
    rates = [r for r in COMMON_RATES if _supports(pa, device, r, min(channels, device.channels))]
    raise SourceError(
        f"input device {device} cannot record {rate} Hz {channels} ch 16-bit nor anything "
        f"convertible to it; it has {device.channels} input channel(s), default rate "
        f"{device.rate} Hz, and takes {', '.join(map(str, rates)) or 'none of the usual rates'} Hz"
    )


def _supports(pa: Any, device: Device, rate: int, channels: int) -> bool:
    if channels > device.channels:
        return False
    try:
        pa.is_format_supported(
            rate,
            input_device=device.index,
            input_channels=channels,
            input_format=pa.get_format_from_width(2),
        )
    except ValueError:
        return False
    return True


def open_stream(
    pa: Any, device: Device, *, rate: int, channels: int, samples: int, callback: AudioCallback
) -> Any:
    """A started callback-mode input stream delivering ``samples`` per buffer."""
    try:
        return pa.open(
            format=pa.get_format_from_width(2),
            channels=channels,
            rate=rate,
            input=True,
            input_device_index=device.index,
            frames_per_buffer=samples,
            stream_callback=callback,
        )
    except OSError as exc:
        raise SourceError(
            f"cannot open input device {device} at {rate} Hz {channels} ch: {exc}"
        ) from None
