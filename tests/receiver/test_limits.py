"""What one client can make the receiver do is bounded: disk, streams, and events it may send."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from tests.receiver.segment_client import call_all, frame, segments, send
from tests.receivers import start_receiver, stop_receiver
from tests.support import Procs, expected_tone, poll_for
from uplink_frame import Frame

WIDE_AUDIO = bytes(480 * 8 * 2)  # 2.5 ms of 192 kHz x 8 channels: 7,680 B


def wide(seq: int) -> dict[str, Any]:
    return Frame("wide", seq, 1_700_000_000.0, 192000, 8, WIDE_AUDIO, epoch=1).to_dict()


def disk_bytes(out: Path) -> int:
    return sum(p.stat().st_blocks * 512 for p in out.iterdir())


def test_seq_jumps_cannot_amplify_writes_and_a_stream_has_a_disk_budget(
    procs: Procs, tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    url, proc = start_receiver(procs, out, "--max-stream-bytes", str(50_000_000))
    jumps = [wide(seq) for seq in range(0, 150 * 500, 500)]  # each 500 frames (3.8 MB) ahead
    replies = send(url, [*jumps, frame(0, stream="good"), frame(1, stream="good")])
    stats = stop_receiver(proc, out)

    refused = [r for r in replies[:150] if not r["ok"]]
    assert len(refused) > 100 and all("max_stream_bytes" in r["error"] for r in refused)
    assert replies[150:] == [{"ok": True}] * 2  # other streams are not affected
    assert stats["rejected_disk"] == len(refused)
    wide_files = [p for p in out.iterdir() if p.name.startswith("wide")]
    assert sum(p.stat().st_size for p in wide_files) <= 50_000_000  # the budget, holes included
    assert disk_bytes(out) < 4_000_000  # a skipped seq is a hole in the file, not written
    assert segments(out, "good") == [(0, expected_tone(2))]


def test_idle_streams_age_out_and_a_refused_stream_is_counted(procs: Procs, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    url, proc = start_receiver(procs, out, "--max-streams", "4", "--idle-stream-s", "1")
    replies = send(url, [frame(0, stream=f"junk{i}") for i in range(5)])
    assert replies[:4] == [{"ok": True}] * 4
    assert replies[4]["ok"] is False and "more than 4 streams" in replies[4]["error"]
    deadline = time.monotonic() + 20
    poll_for(lambda: send(url, [frame(0, stream="real")]) == [{"ok": True}], timeout=20)
    assert time.monotonic() < deadline
    stats = stop_receiver(proc, out)
    assert stats["rejected_streams"] >= 1 and stats["streams_aged_out"] >= 4
    assert segments(out, "real") == [(0, expected_tone(1))]


def test_forged_lifecycle_events_and_extra_arguments_are_refused_quietly(
    procs: Procs, tmp_path: Path
) -> None:
    out, log = tmp_path / "rec", tmp_path / "receiver.log"
    with log.open("w") as stderr:
        url, proc = start_receiver(procs, out, stderr=stderr)
        forged: list[tuple[str, Any]] = [
            ("connect", {"token": "x"}),
            ("disconnect", "transport error"),
            ("audio_data", (frame(0), "extra")),
            ("other_event", frame(0)),
        ]
        replies = asyncio.run(call_all(url, [*forged * 25, ("audio_data", frame(0))]))
        stats = stop_receiver(proc, out)

    assert all(r["ok"] is False and "only 'audio_data'" in r["error"] for r in replies[:-1])
    assert replies[-1] == {"ok": True}
    assert stats["rejected_event"] == 100 and stats["rejected_auth"] == 0
    # 25 forged disconnects would count 25; the client's own close may count one
    assert stats["disconnects_abnormal"] <= 1 and stats["clients"] == 1
    text = log.read_text()
    assert "Traceback" not in text and text.count("rejected (event") == 1
