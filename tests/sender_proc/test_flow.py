"""Flow-control rules, one at a time (the socket parts are covered end to end)."""

from __future__ import annotations

from sender_proc.flow import FlowControl
from uplink_frame import Frame

NOW = 1_000.0


def frame(seq: int, age_s: float = 0.0) -> Frame:
    return Frame("s", seq, NOW - age_s - 0.02, 16000, 1, bytes(640))


def flow(window: int = 2, queue: int = 3) -> FlowControl:
    f = FlowControl(window, queue, max_latency_s=0.5, ack_timeout_s=2.0)
    f.connected = True
    return f


def test_window_limits_unacked_emits() -> None:
    f = flow(window=2)
    for seq in range(3):
        f.offer(frame(seq))
    for ack_id in (1, 2):
        assert f.can_send()
        sent = f.next_frame(NOW)
        assert sent is not None
        f.sent(ack_id, sent, NOW)
    assert not f.can_send()  # window full, one frame still pending
    assert f.acked(1, NOW + 0.003)
    assert f.can_send()
    assert f.counters["acked"] == 1 and f.latency.total == 1
    assert 2.9 <= (f.latency.percentile(50) or 0) <= 3.1


def test_full_queue_drops_oldest_and_counts_by_link_state() -> None:
    f = flow(queue=2)
    for seq in range(3):
        f.offer(frame(seq))
    assert [fr.seq for fr in f.pending] == [1, 2]
    assert f.counters["dropped.stale"] == 1
    f.link_down()
    f.offer(frame(3))
    assert f.counters["dropped.disconnected"] == 1
    assert not f.can_send()


def test_frames_older_than_max_latency_are_dropped_at_their_turn() -> None:
    f = flow()
    f.offer(frame(0, age_s=0.6))
    f.offer(frame(1, age_s=0.1))
    sent = f.next_frame(NOW)
    assert sent is not None and sent.seq == 1
    assert f.counters["dropped.stale"] == 1


def test_ack_timeout_returns_credit_and_ignores_late_ack() -> None:
    f = flow(window=1)
    f.offer(frame(0))
    sent = f.next_frame(NOW)
    assert sent is not None
    f.sent(7, sent, NOW)
    assert f.expire(NOW + 1.0) == []
    assert f.expire(NOW + 2.5) == [7]
    assert f.counters["ack_timeout"] == 1 and not f.inflight
    assert not f.acked(7, NOW + 3)  # the late ack changes nothing
    assert f.counters["acked"] == 0


def test_link_down_counts_in_flight_and_rejections_count_too() -> None:
    f = flow(window=4)
    for seq in range(3):
        f.offer(frame(seq))
        sent = f.next_frame(NOW)
        assert sent is not None
        f.sent(seq, sent, NOW)
    assert f.acked(0, NOW, ok=False)
    f.link_down()
    assert f.counters["rejected"] == 1 and f.counters["lost_in_flight"] == 2


def test_abandon_accounts_for_everything_held() -> None:
    f = flow(window=1, queue=5)
    for seq in range(4):
        f.offer(frame(seq))
    sent = f.next_frame(NOW)
    assert sent is not None
    f.sent(1, sent, NOW)
    f.abandon()
    assert f.idle
    assert f.counters["dropped.shutdown"] == 3 and f.counters["lost_in_flight"] == 1
