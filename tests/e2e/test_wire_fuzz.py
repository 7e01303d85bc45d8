"""Raw Engine.IO and Socket.IO packets, fuzzed over real websockets, while a pipeline streams.

Hypothesis (fixed seed, no example database) makes the packets: text and
binary noise, every Socket.IO packet type with bodies of any JSON shape,
binary headers announcing any number of attachments, frame-like maps with
bad fields. The good stream must come through whole: every frame acked,
none dropped, the WAV bit-exact; the receiver counts what it refused.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import aiohttp
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from testkit.wire import RawSession
from tests.receiver.test_receiver import tone_frame
from tests.receiver.test_transport_limits import announced_url, receiver_cmd
from tests.support import Procs, expected_tone, poll_for, read_wav, start_supervisor

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def _binary_frame(seq: int, key: str, value: Any) -> list[str | bytes]:
    """A frame as a real client sends it: a header with a placeholder, then the audio."""
    frame = tone_frame(seq, "fz") | {key: value}
    audio = frame.pop("audio") if isinstance(frame.get("audio"), bytes) else b""
    frame["audio"] = {"_placeholder": True, "num": 0}
    return ["451-" + json.dumps(["audio_data", frame]), audio]


FRAMES = st.builds(
    _binary_frame,
    st.integers(0, 10),
    st.sampled_from(["v", "seq", "t_capture", "rate", "channels", "format", "codec", "audio", "x"]),
    JSON | st.binary(max_size=700).map(lambda b: b.hex()),
)
ONE = st.one_of(
    st.text(max_size=40),
    st.binary(max_size=2048),
    st.sampled_from(["2", "3", "5", "6", "2probe", "40", "41", "49", "4"]),
    st.builds(lambda t, body: f"4{t}" + json.dumps(body), st.integers(0, 9), JSON),
    st.builds(lambda body: "42" + json.dumps(["audio_data", body]), JSON),
    st.builds(
        lambda n, body: f"45{n}-" + json.dumps(["audio_data", body]),
        st.integers(0, 200),
        JSON | st.just({"_placeholder": True, "num": 0}),
    ),
    st.builds(lambda d: "43" + json.dumps([d]), JSON),
)
MESSAGES = st.lists(ONE.map(lambda m: [m]) | FRAMES, min_size=1, max_size=10).map(
    lambda groups: [m for group in groups for m in group]
)


async def send_raw(url: str, messages: list[str | bytes]) -> None:
    async with aiohttp.ClientSession() as http:
        session = await RawSession.open(http, url)
        try:
            await session.connect()
            for message in messages:
                await session.send(message)
        except (aiohttp.ClientError, ConnectionResetError, TimeoutError):
            pass  # the server may close on us: that is one of the answers
        finally:
            await session.close()


def fuzz(url: str) -> None:
    @seed(14)
    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(MESSAGES)
    def one_session(messages: list[str | bytes]) -> None:
        asyncio.run(send_raw(url, messages))

    one_session()


def test_fuzzed_packets_beside_a_good_stream(procs: Procs, run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    receiver = procs.start(  # sessions as fast as hypothesis makes them
        [*receiver_cmd(out), "--session-rate", "1000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    url = announced_url(receiver)
    pipeline = start_supervisor(
        procs, run_dir, "--server", url, "--duration", "120", stdout=subprocess.PIPE, stderr=None
    )
    poll_for((out / "main.wav").exists, timeout=30)  # the good stream is flowing
    fuzz(url)
    ended = pipeline.stop(timeout=90)  # a clean stop: everything captured is delivered
    assert ended.code == 0
    assert receiver.poll() is None
    receiver.send_signal(signal.SIGTERM)
    _, err = receiver.communicate(timeout=15)
    assert receiver.returncode == 0
    assert "Traceback" not in err and len(err) < 20_000, err[-3000:]
    stats: dict[str, Any] = json.loads((out / "stats.json").read_text())

    frames = ended.report["frames"]
    assert frames["unaccounted"] == 0 and sum(frames["dropped"].values()) == 0, frames
    assert frames["acked"] == frames["captured"]
    _, audio = read_wav(out / "main.wav")
    assert audio == expected_tone(frames["captured"])
    assert stats["streams"]["main"]["missing"] == 0
    assert stats["malformed_packets"] > 0 and stats["rejected_malformed"] > 0
