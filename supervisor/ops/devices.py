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


def list_devices() -> int:
    """Print the input devices as a table; exit code 1 when there are none."""
    devices = probe("devices")["devices"]
    if not devices:
        print(NO_DEVICES, file=sys.stderr)
        return 1
    width = max(len("name"), *(len(d["name"]) for d in devices))
    print(f"{'index':>5}  {'name':<{width}}  {'inputs':>6}  {'default rate':>12}")
    for d in devices:
        mark = "  (default)" if d["default"] else ""
        rate = f"{d['rate']} Hz"
        print(f"{d['index']:>5}  {d['name']:<{width}}  {d['channels']:>6}  {rate:>12}{mark}")
    print("pick one with --source mic:INDEX or --source mic:NAME (any part of the name)")
    return 0


def check_mic(options: Options, source: str) -> None:
    """ConfigError naming the fix if ``--source mic[:DEVICE]`` cannot record as asked."""
    spec = source.partition(":")[2] or "-"
    result = probe("check", spec, str(options.rate), str(options.channels))
    if "error" in result:
        raise ConfigError(f"source: {result['error']}")
    logger.info("supervisor: recording from input device %s", result["device"]["name"])
