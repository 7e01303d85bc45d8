"""The delay-based window: grows on flat round trips, halves when they rise."""

from __future__ import annotations

from sender_proc.window import DelayWindow


def test_slow_start_grows_one_per_ack_up_to_the_cap() -> None:
    w = DelayWindow(max_window=8, target_s=0.05)
    assert w.size == 1
    for i in range(20):
        w.sample(0.002, i * 0.01, busy=False)
    assert w.size == 8


def test_rising_round_trips_shrink_it_to_one_and_flat_ones_regrow_it() -> None:
    w = DelayWindow(max_window=8, target_s=0.05)
    now = 0.0
    for _ in range(8):
        now += 0.1
        w.sample(0.1, now, busy=True)  # base 100 ms: a server that takes 100 ms per frame
    assert w.size == 8
    for queued in range(2, 12):  # 8 frames queue up behind each other
        now += 0.1
        w.sample(0.1 * queued, now, busy=True)
    assert w.size == 1
    for _ in range(10):
        now += 0.1
        w.sample(0.1, now, busy=True)
    assert 1 < w.size < 8  # congestion avoidance: about one more per round trip
    assert w.service_s is not None and abs(w.service_s - 0.1) < 0.01


def test_one_cut_per_round_trip() -> None:
    w = DelayWindow(max_window=8, target_s=0.05)
    w.sample(0.1, 0.0, busy=True)
    w.cwnd = 8.0
    w.sample(0.5, 10.0, busy=True)
    w.sample(0.5, 10.01, busy=True)  # acks sent before the cut: no second cut yet
    assert w.size == 4
