"""docs/redis.md's own consumer example runs as written against a real Redis."""

from __future__ import annotations

import asyncio
import re

import pytest

from receiver.redis_sink import RedisSink
from tests.redis.services import RedisServer
from tests.redis.test_sink import tone_frame
from tests.support import REPO, expected_tone

_N = 30


class Done(Exception):
    """Ends the example's endless loop once every frame is in."""


class Recognizer:
    def __init__(self) -> None:
        self.pcm = b""

    def AcceptWaveform(self, pcm: bytes) -> None:  # vosk's name
        self.pcm += pcm
        if len(self.pcm) >= _N * 640:
            raise Done


def example() -> str:
    text = (REPO / "docs" / "redis.md").read_text()
    found = re.search(r"<!-- example: asr -->\n```python\n(.*?)```", text, re.S)
    assert found, "docs/redis.md lost its example"
    assert len(found.group(1).strip().splitlines()) <= 20
    return found.group(1)


async def _store(url: str) -> None:
    sink = RedisSink(url, 300, 64, 60)
    try:
        order = [*range(10, _N), *range(10)[::-1]]  # not in seq order across batches
        for seq in order[:10]:
            await sink.write([tone_frame(seq)])
        await sink.write([tone_frame(seq) for seq in order[10:]])
    finally:
        await sink.close()


def test_the_speech_recognizer_example_gets_the_pcm_of_every_frame(
    redis_server: RedisServer,
) -> None:
    asyncio.run(_store(redis_server.url))
    namespace: dict[str, object] = {}
    exec(compile(example(), "docs/redis.md", "exec"), namespace)
    recognizer = Recognizer()
    with pytest.raises(Done):
        namespace["feed"](redis_server.url, "main", recognizer)  # type: ignore[operator]
    assert sorted(recognizer.pcm[i : i + 640] for i in range(0, _N * 640, 640)) == sorted(
        expected_tone(1, first_seq=s) for s in range(_N)
    )
