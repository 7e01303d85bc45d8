"""Each frame once per (stream, epoch, seq), in numbered segments that are never truncated."""

from __future__ import annotations

import asyncio
import signal
import threading
import wave
from pathlib import Path

import socketio

from receiver.segments import stream_segments
from tests.receiver.segment_client import (
    frame,
    segments,
    send,
    seqs_written,
    sox_samples,
)
from tests.receivers import start_receiver, stop_receiver
from tests.support import Procs, expected_tone


def test_an_outlier_seq_gets_its_own_segment_and_the_stream_goes_on(
    procs: Procs, tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    url, proc = start_receiver(procs, out)
    order = [*range(5), 10**12, *range(5, 10)]
    assert send(url, [frame(seq) for seq in order]) == [{"ok": True}] * len(order)
    stats = stop_receiver(proc, out)

    assert segments(out) == [(0, expected_tone(10)), (10**12, expected_tone(1, first_seq=10**12))]
    stream = stats["streams"]["t"]
    assert stream["frames"] == 11 and stream["missing"] == 0 and stream["segments"] == 2


def test_repeats_are_acked_ok_written_once_and_counted(procs: Procs, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    url, proc = start_receiver(procs, out)
    order = [0, 1, 2, 1, 3, 0, 3]
    assert send(url, [frame(seq) for seq in order]) == [{"ok": True}] * len(order)
    stats = stop_receiver(proc, out)
    assert segments(out) == [(0, expected_tone(4))]
    assert stats["streams"]["t"]["duplicates"] == 3


def test_a_new_epoch_starts_a_new_segment_at_seq_0(procs: Procs, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    url, proc = start_receiver(procs, out)
    run1 = [frame(seq, epoch=1) for seq in range(6)]
    run2 = [frame(seq, epoch=2) for seq in range(4)]
    assert send(url, run1 + run2) == [{"ok": True}] * 10
    stats = stop_receiver(proc, out)
    assert segments(out) == [(0, expected_tone(6)), (0, expected_tone(4))]
    assert [p.name for p in stream_segments(out, "t")] == ["t.wav", "t+1.wav"]
    assert stats["streams"]["t"]["duplicates"] == 0


def test_a_segment_rolls_before_its_size_limit(procs: Procs, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    url, proc = start_receiver(procs, out, "--max-segment-bytes", str(10 * 640))
    assert send(url, [frame(seq) for seq in range(25)]) == [{"ok": True}] * 25
    stop_receiver(proc, out)
    assert [first for first, _ in segments(out)] == [0, 10, 20]
    assert b"".join(audio for _, audio in segments(out)) == expected_tone(25)


def test_a_restarted_receiver_keeps_the_file_and_skips_what_it_holds(
    procs: Procs, tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    url, proc = start_receiver(procs, out)
    send(url, [frame(seq) for seq in range(10)])
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    url, proc = start_receiver(procs, out)
    assert send(url, [frame(seq) for seq in range(5, 15)]) == [{"ok": True}] * 10
    stats = stop_receiver(proc, out)

    assert segments(out) == [(0, expected_tone(10)), (10, expected_tone(5, first_seq=10))]
    assert stats["streams"]["t"]["duplicates"] == 5 and stats["streams"]["t"]["frames"] == 5


async def stream_until_cut(url: str, acked: list[int]) -> None:
    client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    await client.connect(url, transports=["websocket"], wait_timeout=10)
    try:
        for seq in range(100_000):
            reply = await client.call("audio_data", frame(seq), timeout=3)
            assert reply == {"ok": True}
            acked.append(seq)
    except (TimeoutError, socketio.exceptions.SocketIOError):
        pass  # the receiver was killed under us
    finally:
        await client.disconnect()


def test_sigkill_mid_stream_leaves_every_acked_frame_in_a_file_wave_and_sox_open(
    procs: Procs, tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    url, proc = start_receiver(procs, out)
    acked: list[int] = []
    killer = threading.Timer(1.5, proc.send_signal, (signal.SIGKILL,))
    killer.start()
    try:
        asyncio.run(stream_until_cut(url, acked))
    finally:
        killer.cancel()
    proc.wait(timeout=10)
    assert len(acked) > 20, "the receiver was killed before the stream got going"

    (path,) = stream_segments(out, "t")
    with wave.open(str(path)) as w:
        assert w.getnframes() >= 320 * len(acked)
    assert sox_samples(path) >= 320 * len(acked)
    assert set(acked) <= set(seqs_written(out))
