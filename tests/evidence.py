"""What reached the server, by the server's own evidence: the WAV it wrote and its stats.json.

Fault tests check the supervisor's report against these, never against the
report's own arithmetic.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support import expected_tone, read_wav

SAMPLES = 320  # the default 20 ms at 16 kHz, mono
FRAME_BYTES = 2 * SAMPLES
SILENCE = bytes(FRAME_BYTES)


def stream_stats(rec: Path, stream: str = "main") -> dict[str, Any]:
    return dict(json.loads((rec / "stats.json").read_text())["streams"][stream])


def wav_frames(rec: Path, stream: str = "main") -> list[bytes]:
    _, audio = read_wav(rec / f"{stream}.wav")
    assert len(audio) % FRAME_BYTES == 0, len(audio)
    return [audio[i : i + FRAME_BYTES] for i in range(0, len(audio), FRAME_BYTES)]


def assert_tone_with_gaps(rec: Path, stream: str = "main", hz: int = 440) -> list[int]:
    """Every frame of the WAV is the tone at its own position, or silence filling a gap.

    Holds whatever was lost, as long as each gap was filled in full (short gaps).
    Returns the positions of the silent frames.
    """
    frames = wav_frames(rec, stream)
    stats = stream_stats(rec, stream)
    tone = expected_tone(len(frames), hz=hz, first_seq=stats["first_seq"])
    silent = []
    for i, frame in enumerate(frames):
        if frame != tone[i * FRAME_BYTES : (i + 1) * FRAME_BYTES]:
            assert frame == SILENCE, f"frame {i} of {stream}.wav is neither the tone nor a gap"
            silent.append(i)
    assert len(frames) - len(silent) == stats["frames"], (len(frames), len(silent), stats)
    return silent


def assert_report_matches_server(
    report: dict[str, Any], rec: Path, uncounted: int = 0, uncaptured: int = 0
) -> None:
    """The report's claims, checked against what the receiver wrote.

    Every frame the report calls acked is in the file (the receiver acks
    what it takes, and writes all it took before it exits); every gap in the
    file is a frame the report counts as dropped or unaccounted. A child
    killed with SIGKILL takes its last heartbeat's counts with it
    (``uncounted``); a replaced capture goes on where real time is, so the
    frames of its downtime were never made (``uncaptured``).
    """
    frames, stats = report["frames"], stream_stats(rec)
    silent = assert_tone_with_gaps(rec)
    in_file = len(wav_frames(rec)) - len(silent)
    assert frames["acked"] <= in_file <= frames["captured"] + uncounted, (frames, stats)
    lost = sum(frames["dropped"].values()) + frames["unaccounted"]
    assert stats["missing"] <= lost + uncounted + uncaptured, (frames, stats)
