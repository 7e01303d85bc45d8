"""A lost Opus frame is concealed by Opus, not left silent, and counted."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from pathlib import Path

import numpy as np

from tests.receiver.test_receiver import exchange
from tests.support import expected_tone, read_wav
from uplink_frame import Frame
from uplink_frame.codec import OpusEncoder

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
