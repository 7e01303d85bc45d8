"""The websocket frames a sender makes itself are the ones websockets would read."""

from __future__ import annotations

import asyncio

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from sender_proc.sio_client import Client


def parse_as_server(data: bytes) -> list[Frame]:
    """Frames as a server's websockets reads them (client frames must be masked)."""
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    frames = []
    while reader.buffer:
        parser = Frame.parse(reader.read_exact, mask=True)
        try:
            next(parser)
        except StopIteration as done:
            frames.append(done.value)
            continue
        raise AssertionError("a frame was cut short")
    return frames


def made_frames(messages: list[str | bytes]) -> bytes:
    async def make() -> bytes:
        client = Client("http://127.0.0.1:9")
        return b"".join(client.frame(message) for message in messages)

    return asyncio.run(make())


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
def test_frames_of_every_length_form_parse_back(size: int) -> None:
    text = "4" + "x" * size
    binary = bytes(range(256)) * (size // 256) + bytes(size % 256)
    frames = parse_as_server(made_frames([text, binary]))
    assert [(f.opcode, f.fin) for f in frames] == [(Opcode.TEXT, True), (Opcode.BINARY, True)]
    assert bytes(frames[0].data).decode() == text
    assert frames[1].data == binary


def test_each_frame_has_its_own_masking_key_across_refills() -> None:
    raw = made_frames([b"\0\0\0\0"] * 1500)  # past one read of keys (1024)
    keys = {raw[i + 2 : i + 6] for i in range(0, len(raw), 10)}
    assert len(keys) > 1490  # 1500 random 32-bit keys: even one repeat is rare
    assert all(f.data == b"\0\0\0\0" for f in parse_as_server(raw))
