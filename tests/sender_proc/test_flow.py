"""Flow-control rules, one at a time (the socket parts are covered end to end)."""

from __future__ import annotations

from sender_proc.flow import FlowControl, FlowLimits
from uplink_frame import Frame

NOW = 1_000.0


def frame(seq: int, age_s: float = 0.0) -> Frame:
    return Frame("s", seq, NOW - age_s - 0.02, 16000, 1, bytes(640))


def flow(window: int = 2, queue: int = 3, **kw: object) -> FlowControl:
    limits = FlowLimits(window, queue, kw.pop("buffer", queue), 0.5, 2.0, **kw)  # type: ignore[arg-type]
    f = FlowControl(limits)
    f.link_up(NOW)
    f.window.cwnd = float(window)  # past slow start: these tests are about the other rules
    return f


def send_one(f: FlowControl, ack_id: int, now: float = NOW) -> Frame:
    batch = f.next_batch(now)
    assert len(batch) == 1
    f.sent(ack_id, batch, now)
    return batch[0]


def test_window_limits_unacked_emits() -> None:
    f = flow(window=2)
    for seq in range(3):
        f.offer(frame(seq))
    for ack_id in (1, 2):
        assert f.can_send(NOW)
        send_one(f, ack_id)
    assert not f.can_send(NOW)  # window full, one frame still pending
    assert f.acked(1, NOW + 0.003)
    assert f.can_send(NOW)
    assert f.counters["acked"] == 1 and f.latency.total == 1
    assert 2.9 <= (f.latency.percentile(50) or 0) <= 3.1


def test_full_queue_drops_oldest_and_counts_by_link_state() -> None:
    f = flow(queue=2, buffer=3)
    for seq in range(3):
        f.offer(frame(seq))
    assert [fr.seq for fr in f.pending.frames] == [1, 2]
    assert f.counters["dropped.stale"] == 1
    f.link_down()
    for seq in range(3, 5):
        f.offer(frame(seq))
    assert [fr.seq for fr in f.pending.frames] == [2, 3, 4]  # the replay ring is buffer long
    assert f.counters["dropped.disconnected"] == 1
    assert not f.can_send(NOW)


def test_frames_older_than_max_latency_are_dropped_at_their_turn() -> None:
    f = flow()
    f.offer(frame(0, age_s=0.6))
    f.offer(frame(1, age_s=0.1))
    assert send_one(f, 1).seq == 1
    assert f.counters["dropped.stale"] == 1


def test_ack_timeout_returns_credit_stalls_and_ignores_late_ack() -> None:
    f = flow(window=2)
    for seq in range(3):
        f.offer(frame(seq))
    send_one(f, 7)
    assert f.expire(NOW + 1.0) == []
    assert f.expire(NOW + 2.5) == [7]
    assert f.counters["ack_timeout"] == 1 and not f.inflight
    assert f.stalled_since == NOW + 2.5 and f.counters["stalls"] == 1
    assert not f.acked(7, NOW + 3)  # the late ack changes nothing
    assert f.counters["acked"] == 0
    f.offer(frame(3, age_s=-3.0))
    send_one(f, 8, NOW + 3)  # stalled: one probe at a time, however big the window
    assert not f.can_send(NOW + 3)
    assert f.acked(8, NOW + 3.01)
    f.offer(frame(4, age_s=-3.0))
    assert f.stalled_since is None and f.can_send(NOW + 3.01)


def test_link_down_puts_in_flight_frames_first_again_and_rejections_count() -> None:
    f = flow(window=4, queue=5)
    for seq in range(3):
        f.offer(frame(seq))
        send_one(f, seq)
    f.offer(frame(3))
    assert f.acked(0, NOW, ok=False)
    f.link_down()
    assert f.counters["rejected"] == 1 and f.counters["lost_in_flight"] == 0
    assert [fr.seq for fr in f.pending.frames] == [1, 2, 3]  # unacked first, in order
    f.link_up(NOW)
    assert [send_one(f, ack_id).seq for ack_id in (10, 11, 12)] == [1, 2, 3]
    assert f.counters["retransmitted"] == 2 and f.counters["sent"] == 6


def test_every_fate_is_noted_for_capture_once() -> None:
    f = flow(window=4, queue=2)
    for seq in range(3):  # seq 0 pushed out of the full queue: stale
        f.offer(frame(seq))
    send_one(f, 1)
    send_one(f, 2)
    assert f.acked(1, NOW) and f.acked(2, NOW, ok=False)
    assert [(fr.seq, fate.name) for fr, fate in f.settled] == [
        (0, "STALE"),
        (1, "ACKED"),
        (2, "REJECTED"),
    ]


def test_a_requeued_frame_past_the_replay_ring_is_dropped_as_disconnected() -> None:
    f = flow(window=4, queue=2)
    for seq in range(2):
        f.offer(frame(seq))
        send_one(f, seq)
    f.offer(frame(2))
    f.offer(frame(3))
    f.link_down()
    assert [fr.seq for fr in f.pending.frames] == [2, 3]
    assert f.counters["dropped.disconnected"] == 2


def test_abandon_accounts_for_everything_held() -> None:
    f = flow(window=1, queue=5)
    for seq in range(4):
        f.offer(frame(seq))
    send_one(f, 1)
    left = f.abandon()
    assert f.idle
    assert [fr.seq for fr in left] == [0, 1, 2, 3]  # capture pushes them to another sender
    assert f.counters["dropped.shutdown"] == 4 and f.counters["lost_in_flight"] == 0


def test_a_server_slower_than_capture_gets_the_newest_frames() -> None:
    f = flow(window=1, queue=25)
    t, seq = NOW, 0
    for ack_id in range(6):  # the server takes 100 ms per frame; capture makes 5 meanwhile
        for _ in range(5):
            f.offer(Frame("s", seq, t - 0.02, 16000, 1, bytes(640)))
            seq += 1
        if f.can_send(t):
            send_one(f, ack_id, t)
        t += 0.1
        assert f.acked(ack_id, t)
    assert f.window.service_s is not None and f.window.service_s > 0.05
    f.offer(Frame("s", seq, t - 0.02, 16000, 1, bytes(640)))
    assert len(f.pending) == 1 and f.pending.frames[0].seq == seq
    assert f.counters["dropped.backlog"] > 0


def test_batches_take_consecutive_frames_and_count_frames() -> None:
    f = flow(window=2, queue=10, batch_frames=3)
    f.offer(frame(0))
    assert not f.can_send(NOW)  # a batch waits to fill...
    assert f.can_send(NOW + 0.05)  # ...or for its oldest frame to wait a batch's length
    for seq in (1, 2, 4):
        f.offer(frame(seq))
    batch = f.next_batch(NOW)
    assert [fr.seq for fr in batch] == [0, 1, 2]
    f.sent(1, batch, NOW)
    assert f.acked(1, NOW + 0.01)
    assert f.counters["sent"] == 3 and f.counters["acked"] == 3 and f.latency.total == 3


def test_without_acks_frames_count_as_written() -> None:
    f = flow(acks=False)
    f.offer(frame(0))
    send_one(f, 0)
    assert f.counters["written"] == 1 and not f.inflight and f.idle


def test_batches_gather_one_stream_among_interleaved_streams() -> None:
    f = flow(window=2, queue=10, batch_frames=3)
    for seq in range(3):
        f.offer(frame(seq))
        f.offer(Frame("t", seq, NOW - 0.02, 16000, 1, bytes(640)))
    assert f.can_send(NOW)
    assert [(fr.stream, fr.seq) for fr in f.next_batch(NOW)] == [("s", 0), ("s", 1), ("s", 2)]
    assert [(fr.stream, fr.seq) for fr in f.next_batch(NOW)] == [("t", 0), ("t", 1), ("t", 2)]


def test_a_server_keeping_pace_with_batches_is_not_called_slow() -> None:
    f = flow(window=1, queue=25, batch_frames=3)
    t, seq = NOW, 0
    f.offer(Frame("s", seq, t - 0.02, 16000, 1, bytes(640)))
    for ack_id in range(8):  # one batch of 3 frames (60 ms of audio) acked every 60 ms
        for _ in range(2):
            seq += 1
            f.offer(Frame("s", seq, t - 0.02, 16000, 1, bytes(640)))
        f.sent(ack_id, f.next_batch(t), t)
        seq += 1
        f.offer(Frame("s", seq, t - 0.02, 16000, 1, bytes(640)))  # the next batch begins
        t += 0.06
        assert f.acked(ack_id, t)
    assert f.window.service_s is not None and f.window.service_s > 0.05
    assert f.counters["dropped.backlog"] == 0 and f.counters["acked"] == 24
