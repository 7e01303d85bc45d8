"""The restart policy in-process: Intensity gives up, Backoff spaces restarts. No processes.

The end-to-end proofs (a child that keeps crashing makes the supervisor exit 1)
are in test_faults.py; these pin the arithmetic at its edges.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from supervisor.process import Child
from supervisor.restart import Intensity
from uplink_runtime.backoff import Backoff
from uplink_runtime.roles import Role


def test_intensity_allows_max_restarts_within_the_window_and_not_one_more() -> None:
    limit = Intensity(max_restarts=3, window_s=10.0)
    assert [limit.record(t) for t in (0.0, 1.0, 2.0)] == [False, False, False]
    assert limit.record(3.0) is True


def test_intensity_forgets_crashes_older_than_the_window() -> None:
    limit = Intensity(max_restarts=2, window_s=10.0)
    assert not limit.record(0.0) and not limit.record(5.0)
    # the crash at 0.0 is exactly one window old at 10.0: it no longer counts
    assert limit.record(10.0) is False
    assert limit.recent == 2
    assert limit.record(10.5) is True


def test_a_slow_crash_loop_is_never_given_up_on() -> None:
    limit = Intensity(max_restarts=2, window_s=10.0)
    assert not any(limit.record(t * 6.0) for t in range(100))


def test_intensity_keeps_only_what_the_decision_needs() -> None:
    limit = Intensity(max_restarts=5, window_s=1e9)
    for t in range(10_000):
        limit.record(float(t))
    assert limit.recent == 6  # max_restarts + 1, however many crashes came before


def test_backoff_doubles_from_initial_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(random, "uniform", lambda lo, hi: 1.0)  # no jitter: the bare sequence
    backoff = Backoff(initial_s=0.1, cap_s=1.0, healthy_after_s=30.0)
    delays = [backoff.delay(ran_for_s=0.5) for _ in range(7)]
    assert delays == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0])


def test_backoff_starts_over_after_a_healthy_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(random, "uniform", lambda lo, hi: 1.0)
    backoff = Backoff(initial_s=0.1, cap_s=10.0, healthy_after_s=30.0)
    for _ in range(5):
        backoff.delay(ran_for_s=1.0)
    assert backoff.delay(ran_for_s=29.9) == pytest.approx(3.2)  # not yet healthy: goes on
    assert backoff.delay(ran_for_s=30.0) == pytest.approx(0.1)
    assert backoff.delay(ran_for_s=1.0) == pytest.approx(0.2)


@pytest.mark.parametrize("bound", [0.8, 1.2])
def test_jitter_stays_within_twenty_percent_and_under_the_cap(
    monkeypatch: pytest.MonkeyPatch, bound: float
) -> None:
    monkeypatch.setattr(random, "uniform", lambda lo, hi: hi if bound > 1 else lo)
    backoff = Backoff(initial_s=0.1, cap_s=1.0)
    delays = [backoff.delay(ran_for_s=0.0) for _ in range(8)]
    assert delays[0] == pytest.approx(0.1 * bound)
    assert max(delays) <= 1.0  # the cap holds after jitter too
    # at the cap, siblings still spread over 80-100 % of it
    assert delays[-1] == pytest.approx(min(1.0, bound))


def test_siblings_do_not_retry_in_lockstep() -> None:
    firsts = {Backoff().delay(ran_for_s=0.0) for _ in range(20)}
    assert len(firsts) > 1
    assert all(0.08 <= d <= 0.12 for d in firsts)


def test_the_first_retry_of_a_series_waits_first_s(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(random, "uniform", lambda lo, hi: 1.0)
    backoff = Backoff(initial_s=0.1, cap_s=10.0, healthy_after_s=30.0, first_s=0.0)
    assert [backoff.delay(ran_for_s=1.0) for _ in range(4)] == pytest.approx([0, 0.1, 0.2, 0.4])
    assert backoff.delay(ran_for_s=30.0) == 0.0  # healthy: a new series
    assert backoff.delay(ran_for_s=1.0) == pytest.approx(0.1)


def test_a_child_is_restarted_at_once_the_first_time(tmp_path: Path) -> None:
    child = Child("sender-1", Role.SENDER, "sender_proc", tmp_path, make_config=lambda c: {})
    child.started_at = 100.0
    assert child.schedule_restart(now=102.0) == 0.0
    assert 0.08 <= child.schedule_restart(now=102.0) <= 0.12  # failing again: backs off


def test_a_child_backs_off_by_how_long_it_ran(tmp_path: Path) -> None:
    child = Child("sender-1", Role.SENDER, "sender_proc", tmp_path, make_config=lambda c: {})
    child.backoff = Backoff(initial_s=1.0, cap_s=8.0, healthy_after_s=30.0)
    child.started_at = 100.0
    first = child.schedule_restart(now=101.0)
    second = child.schedule_restart(now=101.0)
    assert 0.8 <= first <= 1.2 and 1.6 <= second <= 2.4
    assert child.restart_at == pytest.approx(101.0 + second)
    assert child.schedule_restart(now=140.0) <= 1.2  # it ran 40 s: healthy, starts over
    assert child.schedule_restart(now=141.0, delay=0.0) == 0.0  # planned: no backoff
    assert child.restart_at == 141.0
