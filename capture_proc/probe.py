"""Questions about the microphone, answered by a short-lived process of its own.

The supervisor never loads PortAudio itself: starting it enumerates every
device, which blocks for as long as a frozen audio server does and prints
pages of ALSA noise on fd 2. It runs ``python -m capture_proc.probe`` with a
deadline instead and reads the one JSON object printed on stdout.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any

from capture_proc.mic import choose_format, find_device, input_devices, new_pyaudio
from capture_proc.sources import SourceError

USAGE = (
    "usage: python -m capture_proc.probe devices RATE CHANNELS FRAME_MS"
    " | check DEVICE|- RATE CHANNELS FRAME_MS"
)


def devices(rate: int, channels: int, frame_ms: float) -> dict[str, Any]:
    """Every input device PortAudio sees, and the format each would be opened at."""
    pa = new_pyaudio()
    try:
        found = [dataclasses.asdict(d) for d in input_devices(pa)]
        for device, fmt in zip(found, opens_at(pa, rate, channels, frame_ms), strict=True):
            device["opens_at"] = fmt
        return {"devices": found}
    finally:
        pa.terminate()


def check(spec: str | None, rate: int, channels: int, frame_ms: float) -> dict[str, Any]:
    """The device ``mic[:spec]`` would open and at which format, or why it cannot."""
    pa = new_pyaudio()
    try:
        device = find_device(pa, spec)
        fmt = choose_format(pa, device, rate, channels, frame_ms / 1000)
    except SourceError as exc:
        return {"error": str(exc)}
    finally:
        pa.terminate()
    return {"device": dataclasses.asdict(device), "opens_at": [fmt.rate, fmt.channels]}


def opens_at(pa: Any, rate: int, channels: int, frame_ms: float) -> list[Any]:
    """Per device, the format a stream of ``rate`` and ``channels`` would open it at."""
    result: list[Any] = []
    for device in input_devices(pa):
        try:
            fmt = choose_format(pa, device, rate, channels, frame_ms / 1000)
            result.append([fmt.rate, fmt.channels])
        except SourceError:
            result.append(None)
    return result


def main(argv: list[str]) -> None:
    try:
        if len(argv) == 4 and argv[0] == "devices":
            result = devices(int(argv[1]), int(argv[2]), float(argv[3]))
        elif len(argv) == 5 and argv[0] == "check":
            spec = None if argv[1] == "-" else argv[1]
            result = check(spec, int(argv[2]), int(argv[3]), float(argv[4]))
        else:
            raise ValueError(argv)
    except ValueError:
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
