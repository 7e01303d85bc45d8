"""The receiver and Opus: a lost frame concealed and counted, codec changes and lacks refused."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.opus_support import NO_OPUSLIB, OPUSLIB_HINT, env_without
from tests.receiver.test_receiver import exchange
from tests.support import Procs, expected_tone, read_wav
from uplink_frame import Frame
from uplink_frame.codec import OpusEncoder, load_opuslib

SAMPLES = 320  # 20 ms at 16 kHz
LOST = 15


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(float) ** 2)))


def test_a_lost_frame_is_concealed_and_counted(
    external_receiver: tuple[str, Path, subprocess.Popen[str]],
) -> None:
    url, out, proc = external_receiver
    encoder = OpusEncoder(16000, 1, 24000, "voip")
    packets = [encoder.encode(expected_tone(1, first_seq=seq)) for seq in range(30)]
    frames = [  # every frame is encoded; one is lost on the way
        Frame("t", seq, 1_700_000_000.0 + seq * 0.02, 16000, 1, packets[seq], "opus").to_dict()
        for seq in range(30)
        if seq != LOST
    ]
    replies = asyncio.run(exchange(url, frames))
    assert all(r == {"ok": True} for r in replies)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)

    counts = json.loads((out / "stats.json").read_text())["streams"]["t"]
    assert counts["frames"] == 29 and counts["missing"] == 1
    assert counts["concealed"] == 1 and counts["gap_filled"] == 1
    _, audio = read_wav(out / "t.wav")
    got = np.frombuffer(audio, "<i2")
    assert len(got) == 30 * SAMPLES
    concealed = got[LOST * SAMPLES : (LOST + 1) * SAMPLES]
    around = got[(LOST - 5) * SAMPLES : LOST * SAMPLES]
    # silence would be 0; concealment carries the tone on at a comparable level
    assert rms(concealed) >= 0.3 * rms(around), (rms(concealed), rms(around))


def test_a_stream_cannot_change_codec(
    external_receiver: tuple[str, Path, subprocess.Popen[str]],
) -> None:
    url, _, _ = external_receiver
    packet = OpusEncoder(16000, 1, 24000, "voip").encode(expected_tone(1, first_seq=1))
    pcm = Frame("t", 0, 1_700_000_000.0, 16000, 1, expected_tone(1))
    opus = Frame("t", 1, 1_700_000_000.02, 16000, 1, packet, "opus")
    replies = asyncio.run(exchange(url, [pcm.to_dict(), opus.to_dict()]))
    assert replies[0] == {"ok": True}
    assert replies[1]["ok"] is False and "changed rate, channels, codec" in replies[1]["error"]


def test_a_receiver_without_opuslib_refuses_opus_frames_saying_why(
    procs: Procs, tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    proc = procs.start(
        [sys.executable, "-m", "receiver", "--port", "0", "--out", str(out)],
        stdout=subprocess.PIPE,
        env=env_without(NO_OPUSLIB, tmp_path / "site"),
    )
    assert proc.stdout is not None
    match = re.search(r"http://[\d.]+:\d+", proc.stdout.readline())
    assert match, "receiver did not announce its port"
    packet = OpusEncoder(16000, 1, 24000, "voip").encode(expected_tone(1))
    frame = Frame("t", 0, 1_700_000_000.0, 16000, 1, packet, "opus").to_dict()
    replies = asyncio.run(exchange(match.group(0), [frame]))
    assert replies[0]["ok"] is False and OPUSLIB_HINT in replies[0]["error"]


def test_the_original_opuslib_is_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """opuslib-next first; without it, the original opuslib (same API) encodes as well."""
    assert load_opuslib().__name__ == "opuslib_next"
    monkeypatch.setitem(sys.modules, "opuslib_next", None)  # import now raises ImportError
    assert load_opuslib().__name__ == "opuslib"
