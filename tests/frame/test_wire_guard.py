"""The pure policies behind the Socket.IO guards: attachments, packet checks, sessions, log rate."""

from __future__ import annotations

import logging

import pytest

from receiver.limits import SessionRefusal, Sessions
from testkit.wire import binary_header
from uplink_frame.attachments import AttachmentLimits, PendingAttachments, Refusal, announced
from uplink_frame.ratelog import RateGate, RateLog
from uplink_frame.sio_packets import Malformed, check


def header(count: int) -> str:
    """A binary event header as python-socketio gets it (Engine.IO's "4" stripped)."""
    return binary_header(count)[1:]


LIMITS = AttachmentLimits(max_count=4, max_bytes=100, max_total_bytes=150, timeout_s=5.0)


def test_announced_counts_only_binary_headers() -> None:
    assert announced(header(3)) == 3
    assert announced('2["a"]') == 0 and announced(b"51-") == 0
    assert PendingAttachments(LIMITS).header(header(5)) is Refusal.COUNT
    assert PendingAttachments(LIMITS).header(header(4)) is None


def test_one_packet_and_all_packets_are_bounded() -> None:
    pending = PendingAttachments(LIMITS)
    assert pending.attachment("a", 10) == []  # no packet open: not ours to count
    pending.started("a", now=0.0)
    assert pending.attachment("a", 60) == []
    assert pending.attachment("a", 41) == [("a", Refusal.BYTES)]
    pending.started("b", now=1.0)
    assert pending.attachment("b", 60) == []
    pending.started("c", now=2.0)
    assert pending.attachment("c", 40) == [("a", Refusal.TOTAL)]  # the oldest goes first
    pending.finished("a")
    assert pending.total == 100 and len(pending) == 2


def test_an_unfinished_packet_expires() -> None:
    pending = PendingAttachments(LIMITS)
    pending.started("a", now=0.0)
    pending.started("a", now=4.0)  # still the same packet: its start does not move
    assert pending.expired(4.9) == []
    assert pending.expired(5.0) == [("a", Refusal.TIMEOUT)]


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        (b"\x00", "unexpected_attachment"),
        ("2[", "undecodable"),
        ("2" + "[" * 3000 + "]" * 3000, "undecodable"),
        ("9", "packet_type"),
        ('2{"a":1}', "event_shape"),
        ("2[]", "event_shape"),
        ("2[1]", "event_name"),
        ('3{"a":1}', "ack_shape"),
        ('51-["a",{"_placeholder":true,"num":1}]', "placeholder"),
        ('51-["a",{"_placeholder":true,"num":"0"}]', "placeholder"),
        ('2["a",' + "[" * 40 + "]" * 40 + "]", "placeholder"),
    ],
)
def test_malformed_packets_are_named(message: str | bytes, kind: str) -> None:
    with pytest.raises(Malformed) as exc:
        check(message)
    assert exc.value.kind == kind


@pytest.mark.parametrize(
    "message", ["0", '0{"token":"t"}', "1", '2["audio_data",{"v":1}]', "3[{}]", header(2)]
)
def test_good_packets_pass(message: str) -> None:
    check(message)


def test_sessions_total_peer_and_auth_deadline() -> None:
    sessions = Sessions(max_total=3, max_per_peer=2, auth_timeout_s=1.0)
    assert sessions.admit("a", "p", 0.0) is None
    assert sessions.admit("b", "p", 0.0) is None
    assert sessions.admit("c", "p", 0.0) is SessionRefusal.PEER
    assert sessions.admit("c", "q", 0.5) is None
    assert sessions.admit("d", "r", 0.5) is SessionRefusal.TOTAL
    sessions.authed("a")
    assert sessions.overdue(1.2) == ["b"]
    sessions.closed("b")
    assert sessions.admit("d", "p", 1.2) is None and len(sessions) == 3


def test_ratelog_logs_one_line_per_100_of_a_kind_and_per_second(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = [0.0]
    rate = RateLog(logging.getLogger("test.ratelog"), RateGate(max_kinds=2, clock=lambda: clock[0]))
    with caplog.at_level(logging.WARNING):
        for i in range(250):
            clock[0] = i * 0.1  # 10 a second: the count, not the clock, holds them back
            rate.hit("x", "bad %s", "thing")
        for _ in range(500):  # 500 more within the same second: one line at most
            rate.hit("x", "bad %s", "thing")
        for kind in ("y", "z", "w"):  # past max_kinds: "other"
            rate.hit(kind, "bad")
    assert [r.getMessage() for r in caplog.records][:4] == [
        "bad thing (#1)",
        "bad thing (#101)",
        "bad thing (#201)",
        "bad thing (#301)",
    ]
    assert rate.gate.seen["other"] == 2 and len(caplog.records) == 6


def test_one_peer_cannot_reopen_sessions_faster_than_the_rate() -> None:
    sessions = Sessions(max_total=100, max_per_peer=2, auth_timeout_s=1.0, rate=1.0)
    for sid in ("a", "b"):  # the burst
        assert sessions.admit(sid, "p", 0.0) is None
        sessions.closed(sid)
    assert sessions.admit("c", "p", 0.5) is SessionRefusal.RATE
    assert sessions.admit("c", "q", 0.5) is None  # another address has its own bucket
    assert sessions.admit("c", "p", 1.0) is None
