"""The sink's rules without a server: runs of seqs, holes filled in any order, the file bound."""

from __future__ import annotations

from pathlib import Path

import pytest

from receiver.budget import DiskBudget
from receiver.runs import MAX_RUNS, Runs
from receiver.sink import SinkLimits, StreamSink
from receiver.wavfile import MAX_DATA_BYTES
from tests.receiver.segment_client import seqs_written
from tests.support import expected_tone, read_wav
from uplink_frame import Frame


def tone(seq: int, epoch: int = 1) -> Frame:
    return Frame("t", seq, 1_700_000_000.0, 16000, 1, expected_tone(1, first_seq=seq), epoch=epoch)


def sink(out: Path, **limits: int) -> StreamSink:
    return StreamSink(out, tone(0), SinkLimits(**limits), DiskBudget(1 << 40, 1 << 40))


def test_runs_join_and_split() -> None:
    runs = Runs()
    for seq in (0, 1, 3, 5, 4, 2):
        assert seq not in runs
        runs.add(seq)
    assert all(seq in runs for seq in range(6)) and 6 not in runs and runs.count == 6
    assert runs.end == 6 and Runs(10, 12).end == 12 and 9 not in Runs(10, 12)


def test_runs_stay_bounded_under_every_other_seq() -> None:
    runs = Runs()
    for seq in range(0, 4 * MAX_RUNS, 2):
        runs.add(seq)
    assert len(runs._starts) <= MAX_RUNS
    assert 4 * MAX_RUNS - 2 in runs and 4 * MAX_RUNS - 1 not in runs


def test_frames_in_any_order_land_in_place_once(tmp_path: Path) -> None:
    s = sink(tmp_path)
    for seq in (0, 3, 1, 3, 5, 2, 4, 0):
        s.write(tone(seq), 0.0)
    s.close()
    assert seqs_written(tmp_path) == list(range(6))
    stats = s.stats()
    assert stats["duplicates"] == 2 and stats["out_of_order"] == 3 and stats["missing"] == 0


def test_a_jump_past_the_gap_bound_opens_a_segment_and_writes_nothing_between(
    tmp_path: Path,
) -> None:
    s = sink(tmp_path, max_gap_fill_bytes=640 * 10)
    for seq in (0, 1, 13, 2, 14):  # 13 is 11 frames past the end: one more than the bound
        s.write(tone(seq), 0.0)
    s.close()
    assert seqs_written(tmp_path) == [0, 1, 2, 13, 14]
    assert s.stats()["segments"] == 2 and s.stats()["missing"] == 0


def test_a_configured_segment_size_cannot_pass_the_wav_limit(tmp_path: Path) -> None:
    s = sink(tmp_path, max_segment_bytes=1 << 40)
    s.write(tone(0), 0.0)
    assert not s.open[0].accepts(MAX_DATA_BYTES // 640, s.max_gap, MAX_DATA_BYTES)


@pytest.mark.parametrize("epoch", [1, 2])
def test_segments_on_disk_of_the_same_epoch_are_not_written_again(
    tmp_path: Path, epoch: int
) -> None:
    first = sink(tmp_path)
    for seq in range(4):
        first.write(tone(seq), 0.0)
    first.close()
    again = StreamSink(tmp_path, tone(0, epoch), SinkLimits(), DiskBudget(1 << 40, 1 << 40))
    for seq in range(2, 6):
        again.write(tone(seq, epoch), 0.0)
    again.close()
    assert again.stats()["duplicates"] == (2 if epoch == 1 else 0)


def silence_run(seq: int, frames: int) -> Frame:
    return Frame(
        "t", seq, 1_700_000_000.0, 16000, 1, b"", epoch=1, silent=frames, frame_samples=320
    )


def test_a_silence_run_is_written_as_silence_at_each_of_its_seqs(tmp_path: Path) -> None:
    s = StreamSink(tmp_path, silence_run(0, 5), SinkLimits(), DiskBudget(1 << 40, 1 << 40))
    s.write(silence_run(0, 5), 0.0)  # a stream may start with silence
    s.write(tone(5), 0.0)
    s.write(silence_run(6, 3), 0.0)
    s.write(silence_run(6, 3), 0.0)  # redelivered: duplicates, counted in seqs
    s.close()
    _, audio = read_wav(tmp_path / "t.wav")
    assert audio == bytes(5 * 640) + tone(5).audio + bytes(3 * 640)
    stats = s.stats()
    assert (stats["frames"], stats["silent"], stats["duplicates"], stats["missing"]) == (9, 8, 3, 0)


def test_a_run_never_overwrites_audio_already_written(tmp_path: Path) -> None:
    s = sink(tmp_path)
    s.write(tone(2), 0.0)
    s.write(silence_run(0, 4), 0.0)  # a hostile or confused run over seq 2
    s.close()
    _, audio = read_wav(tmp_path / "t.wav")
    assert audio[2 * 640 : 3 * 640] == tone(2).audio and audio[:1280] == bytes(1280)
    assert s.stats()["duplicates"] == 1 and s.stats()["silent"] == 3
