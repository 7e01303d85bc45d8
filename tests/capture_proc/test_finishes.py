"""Capture's back-channel on a real ROUTER socket: reports applied, garbage counted, leases."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq

from capture_proc.finishes import Finishes
from capture_proc.retention import Retention, State
from tests.support import poll_for
from uplink_frame.finish import LEASE_S, Fate, Report, encode


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[tuple[Finishes, zmq.Socket[Any]]]:
    ctx: zmq.Context[Any] = zmq.Context()
    endpoint = f"ipc://{tmp_path / 'fin.sock'}"
    retention = Retention(10, 60.0)
    for seq in range(4):
        retention.add(seq, b"x", time.time())
        retention.pushed(seq, 0.0)
    finishes = Finishes(ctx, endpoint, None, retention)
    dealer = ctx.socket(zmq.DEALER)
    dealer.linger = 0
    dealer.routing_id = b"sender-1:1"
    dealer.connect(endpoint)
    try:
        yield finishes, dealer
    finally:
        dealer.close()
        finishes.close()
        ctx.term()


def read_until(finishes: Finishes, condition: Any) -> None:
    def step() -> bool:
        finishes.read(time.monotonic())
        return bool(condition())

    poll_for(step, timeout=10)


def test_reports_take_and_finish_frames_and_bye_gives_back_the_rest(desk: Any) -> None:
    finishes, dealer = desk
    r = finishes.retention
    dealer.send(encode(Report(took=[(0, 2)], fin=[(Fate.ACKED, 0, 0)])))
    read_until(finishes, lambda: r.counters["fin.acked"] == 1)
    assert [r.ring[s].state for s in (1, 2, 3)] == [State.TAKEN, State.TAKEN, State.PUSHED]
    dealer.send(encode(Report(fin=[(Fate.STALE, 1, 1)], bye=True)))
    read_until(finishes, lambda: r.queue)
    assert r.queue == [2, 3] and finishes.counters["senders_gone"] == 1


def test_garbage_is_counted_and_the_loop_goes_on(desk: Any) -> None:
    finishes, dealer = desk
    dealer.send(b"\xc1 not msgpack")
    dealer.send_multipart([b"a", b"b"])
    dealer.send(encode(Report(took=[(0, 0)])))
    read_until(finishes, lambda: finishes.retention.ring[0].state is State.TAKEN)
    assert finishes.counters["bad_finish"] == 2


def test_a_silent_sender_loses_its_frames_to_the_others(desk: Any) -> None:
    finishes, dealer = desk
    dealer.send(encode(Report(took=[(0, 3)])))
    read_until(finishes, lambda: finishes.heard)
    finishes.read(time.monotonic() + LEASE_S + 0.1)
    assert finishes.retention.queue == [0, 1, 2, 3] and not finishes.heard


def test_reports_from_too_many_senders_are_refused(desk: Any) -> None:
    finishes, dealer = desk
    finishes.heard = {f"ghost-{i}".encode(): time.monotonic() + 60 for i in range(256)}
    dealer.send(encode(Report(took=[(0, 0)])))
    read_until(finishes, lambda: finishes.counters["bad_finish"])
    assert dealer.routing_id not in finishes.heard
