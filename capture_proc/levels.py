"""Levels of the captured sound, and the alarms for a dead or clipping microphone.

A pure core, like sender_proc/flow.py: capture hands :class:`LevelMeter` each
frame's samples and logs the :class:`Change` list it gets back. The meter has
no clock: its time is the audio's own, counted in samples, so a loaded
machine cannot make it raise or miss an alarm. Levels are dBFS: 0 is a
full-scale square wave (a full-scale sine has an RMS of -3 dBFS), and digital
silence is :data:`FLOOR_DB`, never -inf.

The alarms (docs/levels.md):

- ``silent``: every frame's RMS below ``silence_db`` for ``silence_alarm_s``
  of audio; cleared by the first frame at or above ``silence_db``.
- ``clipping``: at least :data:`CLIP_FRACTION` of the samples of a second
  at full scale (int16's two end codes); cleared by a second with fewer.

What capture ships in its heartbeats (checked by supervisor/intake.py):

- info ``rms_db`` and ``peak_db``: the last whole second (absent before
  the first); ``alarms``: the raised ones, sorted; ``stream``: the stream's id;
- counters ``alarm.<kind>``: times raised; ``level.rms_db.<N>`` and
  ``level.peak_db.<N>``: seconds whose level rounds to N dBFS (N even), a
  histogram of at most 61 keys each that the supervisor sums across restarts.
"""

from __future__ import annotations

import array
import math
import sys
from dataclasses import dataclass, field
from typing import Any

from uplink_runtime.levels import (
    FLOOR_DB,
    Alarm,
    alarm_counter,
    level_counter,
)

CLIP_FRACTION = 0.001
_FULL_SCALE = 32768.0
_INT16_ENDS = (32767, -32768)
_SMALL = 960  # samples: the most measured without numpy unless it is loaded anyway


def to_db(ratio: float) -> float:
    return FLOOR_DB if ratio <= 0 else max(FLOOR_DB, min(0.0, 20 * math.log10(ratio)))


@dataclass(frozen=True)
class FrameLevel:
    """What one frame's samples add to a second: energy, peak and clipped samples."""

    samples: int
    energy: float  # sum of squares, in full-scale units
    peak: float  # 0..1
    clipped: int

    def plus(self, other: FrameLevel) -> FrameLevel:
        return FrameLevel(
            self.samples + other.samples,
            self.energy + other.energy,
            max(self.peak, other.peak),
            self.clipped + other.clipped,
        )

    @property
    def rms_db(self) -> float:
        return to_db(math.sqrt(self.energy / self.samples)) if self.samples else FLOOR_DB


def measure(pcm: bytes) -> FrameLevel:
    """Interleaved s16le samples: energy, peak and full-scale samples of one frame.

    A frame of up to ``_SMALL`` samples (20 ms of 48 kHz mono) is measured with the
    standard library's C loops (about 25 us for 20 ms at 16 kHz), so a capture whose
    source needs no numpy does not load it (11 MB); a larger one, or any frame once
    numpy is loaded anyway (a converted source), with numpy. Both give the same figures:
    the sums are of integers below 2**53, exact in either.
    """
    np = sys.modules.get("numpy")
    if np is None and len(pcm) // 2 > _SMALL:
        import numpy as np
    if np is None:
        return _measure_small(pcm)
    return _measure_numpy(np, pcm)


def _measure_small(pcm: bytes) -> FrameLevel:
    """The standard library's way; every sample becomes a Python int, so each pass counts."""
    x = array.array("h")
    x.frombytes(pcm[: len(pcm) // 2 * 2])
    if sys.byteorder == "big":
        x.byteswap()
    if not x:
        return FrameLevel(0, 0.0, 0.0, 0)
    # a list's loops run about twice as fast as an array's, which makes an int per read
    s = x.tolist()
    # hypot's C loop takes a quarter of the time of sum(map(operator.mul, s, s)), and its
    # square rounds back to that exact integer: hypot errs by under an ulp, and for at
    # most _SMALL samples the sum is below 2**40, so h * h is off by less than 2**-10
    h = math.hypot(*s)
    energy = round(h * h)
    top, bottom = max(s), min(s)
    peak = max(top, -bottom) / _FULL_SCALE
    clipped = 0
    # the common case decided by the extremes already found: no sample at an end code
    if top == _INT16_ENDS[0] or bottom == _INT16_ENDS[1]:
        clipped = sum(map(s.count, _INT16_ENDS))
    return FrameLevel(len(s), energy / _FULL_SCALE**2, peak, clipped)


def _measure_numpy(np: Any, pcm: bytes) -> FrameLevel:
    y = np.frombuffer(pcm, "<i2")
    if not len(y):
        return FrameLevel(0, 0.0, 0.0, 0)
    wide = y.astype(np.float64)
    peak = max(int(y.max()), -int(y.min())) / _FULL_SCALE
    clipped = sum(int(np.count_nonzero(y == end)) for end in _INT16_ENDS)
    return FrameLevel(len(y), float(np.dot(wide, wide)) / _FULL_SCALE**2, peak, clipped)


@dataclass(frozen=True)
class Change:
    """An alarm raised or cleared; ``value`` is the evidence (dBFS, or % clipped)."""

    alarm: Alarm
    raised: bool
    value: float
    lasted_s: float  # how long the condition had held (raised) or the alarm was up (cleared)

    def describe(self) -> str:
        if self.alarm is Alarm.SILENT:
            what = f"RMS {self.value:.1f} dBFS"
        else:
            what = f"{self.value:.2f} % of the last second's samples at full scale"
        if self.raised and self.alarm is Alarm.CLIPPING:  # a second is all it takes
            return f"alarm {self.alarm} raised: {what}"
        if self.raised:
            return f"alarm {self.alarm} raised after {self.lasted_s:.1f} s: {what}"
        return f"alarm {self.alarm} cleared after {self.lasted_s:.1f} s: {what}"


@dataclass
class LevelMeter:
    """Per-frame RMS and peak, per-second windows, and the alarm state machine."""

    silence_db: float
    silence_alarm_s: float
    samples_per_s: int  # rate * channels: a second of interleaved samples
    raised: dict[Alarm, int] = field(default_factory=dict)  # alarm -> audio sample it rose at
    counters: dict[str, int] = field(default_factory=dict)
    rms_db: float | None = None  # of the last whole second; None before the first
    peak_db: float | None = None
    _now: int = 0  # samples of audio seen
    _silent_since: int | None = None
    _second: FrameLevel = FrameLevel(0, 0.0, 0.0, 0)  # the second being gathered

    def __post_init__(self) -> None:
        for alarm in Alarm:
            self.counters[alarm_counter(alarm)] = 0

    def add(self, pcm: bytes) -> list[Change]:
        """One frame of audio; what it raised or cleared."""
        frame = measure(pcm)
        self._now += frame.samples
        changes = self._silence(frame)
        self._second = self._second.plus(frame)
        if self._second.samples >= self.samples_per_s:
            changes += self._close_second(self._second)
            self._second = FrameLevel(0, 0.0, 0.0, 0)
        return changes

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"alarms": sorted(self.raised)}
        if self.rms_db is not None and self.peak_db is not None:
            info |= {"rms_db": round(self.rms_db, 1), "peak_db": round(self.peak_db, 1)}
        return info

    def _silence(self, frame: FrameLevel) -> list[Change]:
        if frame.rms_db < self.silence_db:
            if self._silent_since is None:
                self._silent_since = self._now - frame.samples
            held = self._now - self._silent_since
            if Alarm.SILENT in self.raised or held < self.silence_alarm_s * self.samples_per_s:
                return []
            return [self._raise(Alarm.SILENT, frame.rms_db, held)]
        self._silent_since = None
        return self._clear(Alarm.SILENT, frame.rms_db)

    def _close_second(self, second: FrameLevel) -> list[Change]:
        self.rms_db, self.peak_db = second.rms_db, to_db(second.peak)
        for kind, db in (("rms_db", self.rms_db), ("peak_db", self.peak_db)):
            key = level_counter(kind, db)
            self.counters[key] = self.counters.get(key, 0) + 1
        percent = 100 * second.clipped / second.samples
        if second.clipped >= CLIP_FRACTION * second.samples:
            if Alarm.CLIPPING not in self.raised:
                return [self._raise(Alarm.CLIPPING, percent, second.samples)]
            return []
        return self._clear(Alarm.CLIPPING, percent)

    def _raise(self, alarm: Alarm, value: float, held: int) -> Change:
        self.raised[alarm] = self._now
        self.counters[alarm_counter(alarm)] += 1
        return Change(alarm, True, value, held / self.samples_per_s)

    def _clear(self, alarm: Alarm, value: float) -> list[Change]:
        if alarm not in self.raised:
            return []
        up = self._now - self.raised.pop(alarm)
        return [Change(alarm, False, value, up / self.samples_per_s)]
