"""The publisher's cadence on real sockets under a fake clock: how late reports and leases are."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq

from capture_proc import publisher as publisher_module
from capture_proc.config import CaptureConfig
from capture_proc.levels import LevelMeter
from capture_proc.publisher import REPORTS_EVERY_S, Publisher
from capture_proc.retention import State
from tests.support import poll_for
from uplink_frame.finish import LEASE_S, Report, encode, finish_endpoint
from uplink_runtime.child import ChildSpec
from uplink_runtime.roles import Role

FRAME_S = 0.02


class FakeClock:
    """``time`` as the publisher sees it: sleeping only moves the clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(publisher_module, "time", fake)
    return fake


@pytest.fixture
def publisher(tmp_path: Path) -> Iterator[Publisher]:
    ctx: zmq.Context[Any] = zmq.Context()
    child = ChildSpec("capture-test", Role.CAPTURE, f"ipc://{tmp_path / 'stats.sock'}", os.getpid())
    endpoint = f"ipc://{tmp_path / 'capture.sock'}"
    config = CaptureConfig(child=child, stream="s", source="tone", endpoint=endpoint)
    pub = Publisher(ctx, config, LevelMeter(-60.0, 10.0, 16000))
    try:
        yield pub
    finally:
        pub.close()
        ctx.term()


def reads_of(pub: Publisher, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The clock at each read of the back-channel."""
    reads: list[float] = []
    read = pub.finishes.read

    def counted(now: float) -> None:
        reads.append(now)
        read(now)

    monkeypatch.setattr(pub.finishes, "read", counted)
    return reads


def test_a_steady_source_reads_reports_and_checks_leases_every_half_beat(
    publisher: Publisher, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = reads_of(publisher, monkeypatch)
    start = clock.now
    for _ in range(50):  # a second of 20 ms frames
        publisher.serve(FRAME_S, steady=True)
    assert reads[0] == start + FRAME_S  # the first frame reads
    gaps = [b - a for a, b in itertools.pairwise(reads)]
    assert max(gaps) <= REPORTS_EVERY_S + FRAME_S + 1e-9
    assert max(gaps) < LEASE_S / 4  # a live sender's lease never runs out for it
    assert len(reads) < 50  # and not every frame: that is what the cadence saves


def test_waiting_for_room_or_fates_reads_reports_at_every_call(
    publisher: Publisher, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = reads_of(publisher, monkeypatch)
    for _ in range(5):
        publisher.serve(0.001)
    assert len(reads) == 5


def test_a_silent_sender_is_given_up_at_most_a_half_beat_and_a_frame_late(
    publisher: Publisher, clock: FakeClock
) -> None:
    publisher.finishes.heard[b"sender-1:1"] = clock.now
    since = clock.now
    while publisher.finishes.heard and clock.now - since < 2 * LEASE_S:
        publisher.serve(FRAME_S, steady=True)
    assert not publisher.finishes.heard
    assert clock.now - since <= LEASE_S + REPORTS_EVERY_S + 2 * FRAME_S + 1e-9


def test_reports_reach_the_ring_of_a_steady_source(
    publisher: Publisher, clock: FakeClock, tmp_path: Path
) -> None:
    publisher.retention.add(0, b"x", clock.now)
    publisher.retention.pushed(0, clock.now)
    ctx: zmq.Context[Any] = zmq.Context()
    dealer = ctx.socket(zmq.DEALER)
    try:
        dealer.linger = 0
        dealer.routing_id = b"sender-1:1"
        dealer.connect(finish_endpoint(f"ipc://{tmp_path / 'capture.sock'}"))
        dealer.send(encode(Report(took=[(0, 0)])))

        def taken() -> bool:
            publisher.serve(FRAME_S, steady=True)
            return publisher.retention.ring[0].state is State.TAKEN

        poll_for(taken, timeout=10)
    finally:
        dealer.close()
        ctx.term()
