"""A server that pushes never-completed binary packets cannot grow a sender (issue 14 item 9)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from typing import Any

import pytest

from tests.sender_proc.conftest import LoneSender
from tests.support import Procs, expected_tone, poll_for
from uplink_frame import Frame, encode

MAX_RSS_MB = 150  # idle sender ~45 MB; unguarded it passed 400 MB within seconds


def start_pushy(procs: Procs, *flags: str) -> str:
    proc = procs.start([sys.executable, "-m", "tests.pushy_server", *flags], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    match = re.search(r"http://[\d.]+:\d+", proc.stdout.readline())
    assert match
    return match.group(0)


def feed(lone_sender: LoneSender, seconds: float) -> dict[str, Any]:
    """Real-time frames for ``seconds``; the largest RSS the sender reported meanwhile."""
    peak: dict[str, Any] = {"rss_mb": 0.0}
    started, seq = time.monotonic(), 0
    while time.monotonic() - started < seconds:
        frame = Frame("s", seq, time.time(), 16000, 1, expected_tone(1, first_seq=seq))
        lone_sender.push.send(encode(frame))
        seq += 1
        peak["rss_mb"] = max(peak["rss_mb"], lone_sender.heartbeat()["info"].get("rss_mb", 0.0))
        time.sleep(0.02)
    return peak


@pytest.mark.parametrize(
    ("flags", "counter"),
    [
        (("--announce", "1000", "--chunk", "1048576"), "refused_attachment_count"),
        (("--announce", "64", "--chunk", "1048576", "--chunks", "3"), "refused_attachment_bytes"),
        # the next header arrives where an attachment must: the stream is corrupt, the
        # connection goes (as socket.io-client's "parse error")
        (("--announce", "64", "--chunk", "1048576"), "malformed_packets"),
    ],
)
def test_sender_refuses_unfinished_attachments_and_stays_small(
    procs: Procs, lone_sender: LoneSender, flags: tuple[str, ...], counter: str
) -> None:
    url = start_pushy(procs, *flags)
    sender = lone_sender.start(url)
    peak = feed(lone_sender, seconds=4.0)
    assert peak["rss_mb"] < MAX_RSS_MB, peak
    counters = poll_for(lambda: (c := lone_sender.heartbeat()["counters"]).get(counter) and c, 30)
    assert counters[counter] >= 1
    assert lone_sender.heartbeat()["info"]["reconnects"] >= 2  # the link came back after a refusal
    assert sender.poll() is None
    sender.terminate()
    sender.wait(timeout=30)
