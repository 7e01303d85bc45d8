"""Retention rules, one at a time: which frames capture pushes again, and how each is counted."""

from __future__ import annotations

from capture_proc.retention import Retention, State
from uplink_frame.finish import Fate

NOW = 1_000.0
A, B = b"sender-1:1", b"sender-2:2"


def ring(frames: int = 5, capacity: int = 10, budget_s: float = 1.0) -> Retention:
    r = Retention(capacity, budget_s)
    for seq in range(frames):
        r.add(seq, bytes([seq]), NOW)
    return r


def push_all(r: Retention, now: float = NOW, mono: float = 0.0) -> list[int]:
    pushed = []
    while (item := r.next_push(now)) is not None:
        r.pushed(item[0], mono)
        pushed.append(item[0])
    return pushed


def test_frames_go_oldest_first_and_wait_when_zeromq_is_full() -> None:
    r = ring(3)
    assert r.next_push(NOW) == (0, b"\x00")
    r.pushed(0, 0.0)
    assert r.next_push(NOW) == (1, b"\x01")  # not pushed (high-water mark): still first
    assert push_all(r) == [1, 2]
    assert r.counters["retransmitted"] == 0


def test_a_gone_sender_gives_back_what_it_took_and_what_no_one_took() -> None:
    r = ring(5)
    push_all(r)
    r.took(A, 0, 1)
    r.took(B, 2, 3)  # seq 4: pushed, in no one's report yet
    r.finished(Fate.ACKED, 0, 0)
    assert r.gone(A) == 2
    assert push_all(r) == [1, 4]
    assert r.counters["retransmitted"] == 2 and r.counters["fin.acked"] == 1
    assert r.ring[2].state is State.TAKEN and r.unfinished == 4


def test_recent_pushes_are_left_to_live_senders() -> None:
    r = ring(2)
    for mono in (1.0, 5.0):
        queued = r.next_push(NOW)
        assert queued is not None
        r.pushed(queued[0], mono)
    assert r.gone(A, older_than=2.0) == 1
    assert r.queue == [0]


def test_each_frame_is_counted_once_and_an_ack_beats_a_drop() -> None:
    r = ring(3)
    push_all(r)
    r.finished(Fate.STALE, 0, 1)
    r.finished(Fate.ACKED, 1, 2)  # a copy of 1 reached the server after all
    r.finished(Fate.REJECTED, 2, 2)
    assert r.counters["fin.stale"] == 1 and r.counters["fin.acked"] == 2
    assert r.counters["fin.rejected"] == 0 and r.unfinished == 0


def test_frames_older_than_the_budget_are_not_pushed_but_counted_stale() -> None:
    r = ring(3, budget_s=0.5)
    assert r.next_push(NOW + 0.6) is None
    assert r.counters["stale"] == 3 and r.unfinished == 0


def test_the_ring_is_bounded_and_counts_what_it_evicts_unfinished() -> None:
    r = ring(0, capacity=3)
    for seq in range(5):
        r.add(seq, b"x", NOW)
        if seq == 0:
            push_all(r)
            r.finished(Fate.ACKED, 0, 0)
    assert list(r.ring) == [2, 3, 4] and r.queue == [2, 3, 4]
    assert r.counters["evicted"] == 1  # seq 1; seq 0 had its fate
    assert r.full  # unpaced sources wait for fates rather than evict


def test_claims_about_seqs_far_outside_the_ring_cost_nothing() -> None:
    r = ring(3)
    push_all(r)
    r.took(A, 0, 1 << 62)
    r.finished(Fate.ACKED, 1 << 40, 1 << 62)
    assert r.gone(A) == 3 and r.counters["fin.acked"] == 0


def test_a_silence_run_is_one_entry_counted_as_its_frames() -> None:
    r = Retention(10, 1.0)
    r.add(0, b"audio", NOW)
    r.add(1, b"run", NOW, frames=50)
    r.add(51, b"audio", NOW)
    assert r.unfinished == 52
    assert push_all(r) == [0, 1, 51]
    r.finished(Fate.ACKED, 0, 1)
    r.finished(Fate.STALE, 51, 51)
    assert r.counters["fin.acked"] == 51 and r.counters["fin.stale"] == 1
    assert r.unfinished == 0


def test_a_stale_or_evicted_run_counts_all_its_frames() -> None:
    r = Retention(2, 1.0)
    r.add(0, b"run", NOW, frames=50)
    assert r.next_push(NOW + 5) is None and r.counters["stale"] == 50
    r = Retention(1, 1.0)
    r.add(0, b"run", NOW, frames=50)
    r.add(50, b"audio", NOW)
    assert r.counters["evicted"] == 50
