"""The level and alarm facts in a capture's heartbeat, read by capture and the supervisor alike.

Counters ``alarm.<kind>`` count raises; ``level.rms_db.<N>`` and
``level.peak_db.<N>`` count seconds whose level rounds to N dBFS (N even).
"""

from __future__ import annotations

from enum import StrEnum

from uplink_frame.counters import ALARM, LEVEL

FLOOR_DB = -120.0  # digital silence; also the lowest level a heartbeat may carry
HIST_STEP_DB = 2
LEVEL_KINDS = ("rms_db", "peak_db")


class Alarm(StrEnum):
    SILENT = "silent"
    CLIPPING = "clipping"


def alarm_counter(alarm: Alarm) -> str:
    return f"{ALARM}{alarm}"


def level_counter(kind: str, db: float) -> str:
    """The histogram key of one second at ``db``: the level rounded to an even dB."""
    return f"{LEVEL}{kind}.{HIST_STEP_DB * round(db / HIST_STEP_DB)}"


def level_seconds(counters: dict[str, int], kind: str) -> dict[int, int]:
    """The histogram ``level_counter`` wrote, back from a counters table: {dB: seconds}."""
    prefix = f"{LEVEL}{kind}."
    out: dict[int, int] = {}
    for key, n in counters.items():
        if key.startswith(prefix) and n > 0:
            try:
                out[int(key.removeprefix(prefix))] = n
            except ValueError:
                continue
    return out


def is_level_counter(key: str) -> bool:
    return key.startswith(LEVEL)
