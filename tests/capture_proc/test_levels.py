"""The level meter and its alarm state machine, fed samples directly: no process, no clock."""

from __future__ import annotations

import math

import numpy as np
import pytest

from capture_proc.levels import Change, LevelMeter, _measure_numpy, _measure_small, measure
from supervisor.ops.levels import spread
from uplink_runtime.levels import FLOOR_DB, Alarm, level_seconds

RATE = 16000
FRAME = 320  # 20 ms


def frames(samples: np.ndarray) -> list[bytes]:
    pcm = samples.astype("<i2")
    return [pcm[i : i + FRAME].tobytes() for i in range(0, len(pcm), FRAME)]


def silence(seconds: float) -> list[bytes]:
    return frames(np.zeros(round(seconds * RATE)))


def sine(seconds: float, dbfs: float = -6.0, hz: float = 1000.0) -> list[bytes]:
    n = np.arange(round(seconds * RATE))
    return frames(np.round(32767 * 10 ** (dbfs / 20) * np.sin(2 * np.pi * hz * n / RATE)))


def square(seconds: float, hz: float = 500.0) -> list[bytes]:
    n = np.arange(round(seconds * RATE))
    return frames(np.where((n * 2 * hz // RATE) % 2 == 0, 32767, -32768))


def feed(meter: LevelMeter, pcm: list[bytes]) -> list[tuple[int, Change]]:
    """Every change, with the index of the frame that made it."""
    return [(i, change) for i, frame in enumerate(pcm) for change in meter.add(frame)]


def meter(silence_alarm_s: float = 2.0) -> LevelMeter:
    return LevelMeter(-60.0, silence_alarm_s, RATE)


def test_levels_in_dbfs_with_a_floor_for_digital_silence() -> None:
    assert measure(silence(0.02)[0]).rms_db == FLOOR_DB
    quiet = measure(sine(0.02, dbfs=-40)[0])
    assert quiet.rms_db == pytest.approx(-43.0, abs=0.1)  # a sine's RMS is 3 dB below its peak
    assert 20 * math.log10(quiet.peak) == pytest.approx(-40.0, abs=0.1)
    loud = measure(square(0.02)[0])
    assert loud.rms_db == pytest.approx(0.0, abs=0.01) and loud.peak == 1.0
    assert loud.clipped == FRAME
    assert measure(b"").rms_db == FLOOR_DB


def test_the_standard_library_and_numpy_measure_the_same() -> None:
    """Capture measures without numpy unless it is loaded: both ways must agree exactly."""
    rng = np.random.default_rng(17)
    ends = np.array([32767, -32768, 0, -1, 255, -256, 32512, -129], dtype="<i2")
    for n in (1, 2, 3, 160, 320, 960):
        for _ in range(20):
            noise = rng.integers(-32768, 32768, n).astype("<i2")
            odd = rng.random(n) < 0.2
            noise[odd] = rng.choice(ends, int(odd.sum()))
            for pcm in (noise.tobytes(), noise.tobytes() + b"\x7f"):  # an odd last byte too
                assert _measure_small(pcm) == _measure_numpy(np, pcm[: n * 2])
    assert _measure_small(b"\xff") == _measure_numpy(np, b"")
    # the bytes of an end code astride two samples (-256, 127 and 0, 384) are no clipping
    for astride in (b"\x00\xff\x7f\x00", b"\x00\x00\x80\x01"):
        assert _measure_small(astride) == _measure_numpy(np, astride)
        assert _measure_small(astride).clipped == 0


def test_silent_is_raised_after_exactly_silence_alarm_s_and_cleared_by_sound() -> None:
    m = meter(silence_alarm_s=2.0)
    changes = feed(m, sine(1.0) + silence(3.0) + sine(0.5))
    assert [(i, c.alarm, c.raised) for i, c in changes] == [
        (50 + 99, Alarm.SILENT, True),  # the 100th silent frame completes 2.0 s
        (200, Alarm.SILENT, False),  # the first frame of sound
    ]
    raised, cleared = changes[0][1], changes[1][1]
    assert raised.lasted_s == pytest.approx(2.0) and raised.value == FLOOR_DB
    assert cleared.lasted_s == pytest.approx(1.02) and cleared.value == pytest.approx(-9.0, abs=0.1)
    assert m.counters["alarm.silent"] == 1 and "silent" not in m.info()["alarms"]
    assert "alarm silent raised after 2.0 s" in raised.describe()
    assert "alarm silent cleared" in cleared.describe()


def test_quiet_sound_above_silence_db_and_short_pauses_raise_nothing() -> None:
    m = meter(silence_alarm_s=2.0)
    assert feed(m, sine(3.0, dbfs=-50)) == []  # RMS -53 dBFS: quiet, not silent
    assert feed(m, (silence(1.9) + sine(0.1)) * 3) == []  # each pause ends before 2 s
    assert m.counters["alarm.silent"] == 0


def test_silent_alarm_state_is_shipped_while_it_lasts() -> None:
    m = meter(silence_alarm_s=1.0)
    feed(m, silence(0.98))
    assert m.info() == {"alarms": []}  # no whole second yet: no level to show
    feed(m, silence(0.5))
    info = m.info()
    assert info == {"rms_db": FLOOR_DB, "peak_db": FLOOR_DB, "alarms": ["silent"]}
    assert all(math.isfinite(v) for v in (info["rms_db"], info["peak_db"]))


def test_clipping_at_one_in_a_thousand_samples_of_a_second() -> None:
    m = meter()
    assert feed(m, sine(1.0, dbfs=-1)) == []  # loud is not clipped
    changes = feed(m, square(1.0))
    assert [(i, c.alarm, c.raised) for i, c in changes] == [(49, Alarm.CLIPPING, True)]
    assert changes[0][1].value == pytest.approx(100.0)
    assert m.info() == {"rms_db": 0.0, "peak_db": 0.0, "alarms": ["clipping"]}

    one_second = np.round(8000 * np.sin(np.arange(RATE) / 7.0))
    just_under = one_second.copy()
    just_under[:15] = 32767  # 15 of 16000 = 0.094 %
    changes = feed(m, frames(just_under))
    assert [(i, c.alarm, c.raised) for i, c in changes] == [(49, Alarm.CLIPPING, False)]
    assert "cleared after 1.0 s" in changes[0][1].describe()

    at_limit = one_second.copy()
    at_limit[::1000] = -32768  # 16 of 16000 = 0.1 %
    assert [c.raised for _, c in feed(m, frames(at_limit))] == [True]
    assert m.counters["alarm.clipping"] == 2


def test_per_second_level_histogram_is_bounded_and_gives_min_median_max() -> None:
    m = meter(silence_alarm_s=100)
    feed(m, silence(3.0) + sine(5.0, dbfs=-20) + sine(2.0, dbfs=-3))
    rms, peak = level_seconds(m.counters, "rms_db"), level_seconds(m.counters, "peak_db")
    assert rms == {-120: 3, -24: 5, -6: 2}  # RMS -23 and -6 dBFS, to even dB
    assert spread(rms) == {"min": -120, "median": -24, "max": -6}
    assert spread(peak) == {"min": -120, "median": -20, "max": -4}
    assert spread({}) == {"min": None, "median": None, "max": None}
    m2 = meter(silence_alarm_s=100)
    for db in range(0, -130, -1):
        feed(m2, sine(1.0, dbfs=db))
    keys = [k for k in m2.counters if k.startswith("level.")]
    assert len(keys) <= 2 * 61, len(keys)


def test_stereo_counts_a_second_of_interleaved_samples() -> None:
    m = LevelMeter(-60.0, 1.0, 2 * RATE)
    changes = feed(m, silence(2.0))  # 2 s of mono samples = 1 s of stereo
    assert [(i, c.raised) for i, c in changes] == [(99, True)]
