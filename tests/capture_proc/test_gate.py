"""The silence gate, without processes: pre-roll and hangover exact, runs bounded, seqs in order."""

from __future__ import annotations

import pytest

from capture_proc.gate import Audio, Gate, Out, Silence

PREROLL, HANGOVER, MAX_RUN = 10, 10, 50  # 200 ms each and 1 s runs, at 20 ms frames


def feed(gate: Gate, voiced: list[bool], start: int = 0) -> list[Out]:
    out: list[Out] = []
    for i, v in enumerate(voiced):
        out += gate.push(Audio(start + i, 100.0 + 0.02 * (start + i), bytes([i % 256])), v)
    return out


def covered(out: list[Out]) -> list[int]:
    """Every seq that went out, in the order it went."""
    seqs: list[int] = []
    for item in out:
        seqs += (
            [item.seq] if isinstance(item, Audio) else list(range(item.seq, item.seq + item.frames))
        )
    return seqs


def audio_seqs(out: list[Out]) -> list[int]:
    return [item.seq for item in out if isinstance(item, Audio)]


def test_speech_keeps_exactly_the_preroll_before_and_the_hangover_after() -> None:
    gate = Gate(PREROLL, HANGOVER, MAX_RUN)
    pattern = [False] * 100 + [True] * 30 + [False] * 100  # speech is seqs 100..129
    out = feed(gate, pattern) + gate.flush()
    assert audio_seqs(out) == list(range(100 - PREROLL, 130 + HANGOVER))
    assert covered(out) == list(range(len(pattern)))  # every seq once, in order
    assert gate.counters["suppressed"] == len(pattern) - (30 + PREROLL + HANGOVER)


def test_the_preroll_waits_in_a_bounded_ring_and_leaves_as_silence() -> None:
    gate = Gate(PREROLL, HANGOVER, MAX_RUN)
    for i in range(1000):
        feed(gate, [False], start=i)
        assert len(gate.held) <= PREROLL
        assert gate.run is None or gate.run.frames < MAX_RUN
    assert len(gate.held) == PREROLL


def test_a_long_silence_goes_out_in_runs_of_at_most_max_run() -> None:
    gate = Gate(PREROLL, HANGOVER, MAX_RUN)
    out = feed(gate, [False] * 200)
    assert out == [Silence(0, 50, 100.0), Silence(50, 50, 101.0), Silence(100, 50, 102.0)]
    assert [type(x) for x in gate.flush()] == [Silence]


def test_speech_closes_the_open_run_before_the_preroll() -> None:
    gate = Gate(2, 0, MAX_RUN)
    out = feed(gate, [False] * 7 + [True])
    assert [(type(x).__name__, x.seq) for x in out] == [
        ("Silence", 0),  # seqs 0..4
        ("Audio", 5),
        ("Audio", 6),
        ("Audio", 7),
    ]
    assert isinstance(out[0], Silence) and out[0].frames == 5


def test_silence_inside_the_hangover_is_audio_and_restarts_nothing() -> None:
    gate = Gate(PREROLL, HANGOVER, MAX_RUN)
    out = feed(gate, [True] + [False] * 5 + [True] + [False] * 30)
    assert audio_seqs(out) == list(range(0, 7 + HANGOVER))


def test_a_device_gap_splits_the_run() -> None:
    gate = Gate(0, 0, MAX_RUN)
    out = feed(gate, [False] * 3) + feed(gate, [False] * 2, start=10) + gate.flush()
    assert out == [Silence(0, 3, 100.0), Silence(10, 2, 100.2)]


def test_flush_sends_what_is_held_as_silence() -> None:
    gate = Gate(PREROLL, HANGOVER, MAX_RUN)
    feed(gate, [False] * 4)
    assert gate.flush() == [Silence(0, 4, 100.0)]
    assert gate.flush() == [] and gate.counters["suppressed"] == 4


@pytest.mark.parametrize("seed", range(20))
def test_any_pattern_sends_every_seq_once_in_order(seed: int) -> None:
    import random

    rng = random.Random(seed)
    pattern = [rng.random() < 0.2 for _ in range(500)]
    gate = Gate(rng.randint(0, 12), rng.randint(0, 12), rng.randint(1, 60))
    out = feed(gate, pattern) + gate.flush()
    assert covered(out) == list(range(500))
    voiced = [i for i, v in enumerate(pattern) if v]
    assert set(voiced) <= set(audio_seqs(out))
    assert gate.counters["suppressed"] == 500 - len(audio_seqs(out))
    assert all(x.frames <= gate.max_run for x in out if isinstance(x, Silence))
