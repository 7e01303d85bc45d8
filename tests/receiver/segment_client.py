"""A real Socket.IO client for the receiver tests: frames with an epoch, and the recordings."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import socketio

from receiver.segments import stream_segments
from receiver.wavfile import read_meta
from tests.support import expected_tone, read_wav
from uplink_frame import Frame

EPOCH = 4242
FRAME_BYTES = 640  # 20 ms of 16 kHz mono


def frame(seq: int, stream: str = "t", epoch: int = EPOCH) -> dict[str, Any]:
    audio = expected_tone(1, first_seq=seq)
    t_capture = 1_700_000_000.0 + (seq % 10**6) * 0.02  # within t_capture's range for any seq
    return Frame(stream, seq, t_capture, 16000, 1, audio, epoch=epoch).to_dict()


async def call_all(url: str, calls: list[tuple[str, Any]]) -> list[Any]:
    """Each (event, payload) in turn, acks awaited; payload may be a tuple of arguments."""
    client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    await client.connect(url, transports=["websocket"], wait_timeout=10)
    try:
        replies = []
        for event, data in calls:
            replies.append(await client.call(event, data, timeout=10))
        return replies
    finally:
        await client.disconnect()


def send(url: str, payloads: list[Any]) -> list[Any]:
    return asyncio.run(call_all(url, [("audio_data", p) for p in payloads]))


def segments(out: Path, stream: str = "t") -> list[tuple[int, bytes]]:
    """(first_seq, audio) of every segment of ``stream``, oldest first."""
    found = []
    for path in stream_segments(out, stream):
        meta = read_meta(path)
        assert meta is not None, f"{path} is not a segment this receiver wrote"
        found.append((meta.first_seq, read_wav(path)[1]))
    return found


def seqs_written(out: Path, stream: str = "t") -> list[int]:
    """Every seq whose exact tone is in a segment (holes read as silence, not counted)."""
    seqs = []
    for first, audio in segments(out, stream):
        for i in range(len(audio) // FRAME_BYTES):
            chunk = audio[i * FRAME_BYTES : (i + 1) * FRAME_BYTES]
            if chunk == expected_tone(1, first_seq=first + i):
                seqs.append(first + i)
    return seqs


def sox_samples(path: Path) -> int:
    """The sample count sox reads from the file (fails the test if sox cannot open it)."""
    args = ["soxi", "-s", str(path)]
    done = subprocess.run(args, check=False, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return int(done.stdout)
