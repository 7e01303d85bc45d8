"""``supervisor devices`` and the microphone check before ``start``.

Both ask PortAudio through ``python -m capture_proc.probe`` under a deadline,
so a frozen audio server costs the user a clear line, not a hung command.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import Any

from supervisor.config.options import Options
from supervisor.process import describe_exit
from uplink_runtime.errors import ConfigError

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 5.0
NO_DEVICES = (
    "supervisor: no audio input devices: no sound card or audio server is reachable "
    "(see docs/microphone.md), or use --source tone"
)


def probe(*args: str) -> dict[str, Any]:
    """Run the probe; ConfigError (one line) if it hangs or dies."""
    command = [sys.executable, "-m", "capture_proc.probe", *args]
    try:
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # ALSA's probe chatter
            text=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ConfigError(
            f"the audio system did not answer within {PROBE_TIMEOUT_S:.0f} s "
            "(is the audio server frozen?)"
        ) from None
    try:
        result: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        raise ConfigError(
            f"asking PortAudio for devices failed ({describe_exit(done.returncode)})"
        ) from None
    return result


def list_devices(options: Options | None = None) -> int:
    """Print the input devices as a table; exit code 1 when there are none.

    The last column says at which format each device would record the
    default stream (``options``' rate and channels) and whether capture
    converts it (docs/audio.md).
    """
    o = options or Options()
    devices = probe("devices", str(o.rate), str(o.channels), f"{o.frame_ms:g}")["devices"]
    if not devices:
        print(NO_DEVICES, file=sys.stderr)
        return 1
    width = max(len("name"), *(len(d["name"]) for d in devices))
    stream = f"{o.rate} Hz {o.channels} ch"
    print(f"{'index':>5}  {'name':<{width}}  {'inputs':>6}  {'default rate':>12}  for {stream}")
    for d in devices:
        mark = "  (default)" if d["default"] else ""
        rate = f"{d['rate']} Hz"
        row = f"{d['index']:>5}  {d['name']:<{width}}  {d['channels']:>6}  {rate:>12}"
        print(f"{row}  {_opens_at(d.get('opens_at'), o)}{mark}")
    print("pick one with --source mic:INDEX or --source mic:NAME (any part of the name)")
    return 0


def _opens_at(fmt: list[int] | None, o: Options) -> str:
    if fmt is None:
        return "cannot"
    if fmt == [o.rate, o.channels]:
        return "direct"
    return f"converted from {fmt[0]} Hz {fmt[1]} ch"


def check_mic(options: Options, source: str) -> None:
    """ConfigError naming the fix if ``--source mic[:DEVICE]`` cannot record as asked."""
    spec = source.partition(":")[2] or "-"
    o = options
    result = probe("check", spec, str(o.rate), str(o.channels), f"{o.frame_ms:g}")
    if "error" in result:
        raise ConfigError(f"source: {result['error']}")
    rate, channels = result["opens_at"]
    how = (
        ""
        if [rate, channels] == [o.rate, o.channels]
        else (f", at {rate} Hz {channels} ch converted to {o.rate} Hz {o.channels} ch")
    )
    logger.info("supervisor: recording from input device %s%s", result["device"]["name"], how)
