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

from capture_proc.mic import check_format, find_device, input_devices, new_pyaudio
from capture_proc.sources import SourceError

USAGE = "usage: python -m capture_proc.probe devices | check DEVICE|- RATE CHANNELS"


def devices() -> dict[str, Any]:
    """Every input device PortAudio sees."""
    pa = new_pyaudio()
    try:
        return {"devices": [dataclasses.asdict(d) for d in input_devices(pa)]}
    finally:
        pa.terminate()


def check(spec: str | None, rate: int, channels: int) -> dict[str, Any]:
    """The device ``mic[:spec]`` would open, or the one-line reason it cannot."""
    pa = new_pyaudio()
    try:
        device = find_device(pa, spec)
        check_format(pa, device, rate, channels)
    except SourceError as exc:
        return {"error": str(exc)}
    finally:
        pa.terminate()
    return {"device": dataclasses.asdict(device)}


def main(argv: list[str]) -> None:
    if argv == ["devices"]:
        result = devices()
    elif len(argv) == 4 and argv[0] == "check" and argv[2].isdigit() and argv[3].isdigit():
        result = check(None if argv[1] == "-" else argv[1], int(argv[2]), int(argv[3]))
    else:
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
