"""The reference receiver against a real Socket.IO client: good frames written, bad ones counted."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import socketio

from tests.support import expected_tone, read_wav
from uplink_frame import Frame


def tone_frame(seq: int, stream: str = "t") -> dict[str, Any]:
    audio = expected_tone(1, first_seq=seq)
    return Frame(stream, seq, 1_700_000_000.0 + seq * 0.02, 16000, 1, audio).to_dict()


async def exchange(url: str, payloads: list[Any]) -> list[Any]:
    client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    await client.connect(url, transports=["websocket"], wait_timeout=10)
    try:
        return [await client.call("audio_data", p, timeout=10) for p in payloads]
    finally:
        await client.disconnect()


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)


def test_hostile_payloads_are_refused_and_the_stream_stays_exact(
    external_receiver: tuple[str, Path, subprocess.Popen[str]],
) -> None:
    url, out, proc = external_receiver
    bad = [
        "not a map",
        {"v": 1},
        tone_frame(99) | {"audio": b"\0" * 3},
        tone_frame(99) | {"codec": "mp3"},
        tone_frame(99, stream="../escape"),
        tone_frame(99) | {"rate": 8000},  # changes the stream's shape
    ]
    good = [tone_frame(seq) for seq in range(5)]
    replies = asyncio.run(exchange(url, [good[0], *bad, *good[1:]]))
    assert replies[0] == {"ok": True}
    assert all(r["ok"] is False and r["error"] for r in replies[1 : len(bad) + 1])
    assert all(r == {"ok": True} for r in replies[len(bad) + 1 :])
    stop(proc)

    _, audio = read_wav(out / "t.wav")
    assert audio == expected_tone(5)
    stats = json.loads((out / "stats.json").read_text())
    assert stats["bad_frame"] == len(bad) and stats["frames"] == 5
    assert not list(out.parent.glob("escape*"))


def test_reorder_buffer_puts_frames_back_in_order(
    external_receiver: tuple[str, Path, subprocess.Popen[str]],
) -> None:
    url, out, proc = external_receiver
    order = [0, 1, 4, 4, 2, 5]  # 2 overtaken by 4 (reordered), a duplicate, 3 never comes
    asyncio.run(exchange(url, [tone_frame(seq) for seq in order]))
    stop(proc)

    counts = json.loads((out / "stats.json").read_text())["streams"]["t"]
    assert counts["frames"] == 5 and counts["out_of_order"] == 1
    assert counts["duplicates"] == 1 and counts["missing"] == 1
    _, audio = read_wav(out / "t.wav")
    silence = bytes(len(expected_tone(1)))
    assert audio == expected_tone(3) + silence + expected_tone(2, first_seq=4)


def test_a_frame_redelivered_much_later_still_fills_its_place(
    external_receiver: tuple[str, Path, subprocess.Popen[str]],
) -> None:
    url, out, proc = external_receiver

    async def scenario() -> None:
        await exchange(url, [tone_frame(seq) for seq in (0, 1, 3)])
        await asyncio.sleep(0.6)  # longer than any reorder window: nothing waits for seq 2
        await exchange(url, [tone_frame(2), tone_frame(4), tone_frame(2)])

    asyncio.run(scenario())
    stop(proc)
    counts = json.loads((out / "stats.json").read_text())["streams"]["t"]
    assert counts["missing"] == 0 and counts["frames"] == 5 and counts["duplicates"] == 1
    _, audio = read_wav(out / "t.wav")
    assert audio == expected_tone(5)


def test_batches_are_written_frame_by_frame_and_bad_ones_refused(
    external_receiver: tuple[str, Path, subprocess.Popen[str]],
) -> None:
    url, out, proc = external_receiver
    batch = {"v": 2, "n": 3, "frames": [tone_frame(seq) for seq in range(1, 4)]}
    gap = {"v": 2, "n": 2, "frames": [tone_frame(4), tone_frame(6)]}
    replies = asyncio.run(exchange(url, [tone_frame(0), batch, gap, tone_frame(4)]))
    assert replies[:2] == [{"ok": True}, {"ok": True}]
    assert replies[2]["ok"] is False and "consecutive" in replies[2]["error"]
    assert replies[3] == {"ok": True}
    stop(proc)

    _, audio = read_wav(out / "t.wav")
    assert audio == expected_tone(5)
    stats = json.loads((out / "stats.json").read_text())
    assert stats["frames"] == 5 and stats["bad_frame"] == 1
