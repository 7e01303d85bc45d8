"""The websocket frames a sender makes itself are the ones websockets would read."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Iterable
from typing import Any

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from sender_proc.sio_client import Client

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455's, for Sec-WebSocket-Accept


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


class Wire(asyncio.Transport):
    """A transport that keeps what the client writes and says whether it was aborted."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.aborted = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        for data in list_of_data:
            self.write(data)

    def is_closing(self) -> bool:
        return self.aborted

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        self.aborted = True

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass


def server_frame(text: str) -> bytes:
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False)


async def open_client() -> tuple[Client, Wire]:
    """A client whose websocket handshake is done and whose Socket.IO session is open."""
    client, wire = Client("http://127.0.0.1:9"), Wire()
    client.connection_made(wire)
    request = client._ws.connect()
    client._ws.send_request(request)
    key = request.headers["Sec-WebSocket-Key"]
    accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
    client.data_received(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode()
    )
    client.connected = True
    return client, wire


def acks_seen(chunks: list[bytes], *, before: str | None = None) -> tuple[list[Any], Wire]:
    """Feed the server's bytes in ``chunks``; the replies of acks 1 and 2, in order."""

    async def run() -> tuple[list[Any], Wire]:
        client, wire = await open_client()
        replies: list[Any] = []
        for _ in range(2):
            client.expect_ack(lambda *reply: replies.append(reply))
        if before is not None:
            client.data_received(server_frame(before))
        for chunk in chunks:
            client.data_received(chunk)
        return replies, wire

    return asyncio.run(run())


ACK_1, ACK_2 = server_frame('431[{"ok":true}]'), server_frame('432[{"ok":true}]')


def test_an_ack_alone_in_a_read_is_read_without_the_parser() -> None:
    def no_parser(data: bytes | bytearray) -> None:
        raise AssertionError("the websocket parser ran")

    async def run() -> list[Any]:
        client, _ = await open_client()  # the handshake goes through the parser
        client._ws.receive_data = no_parser  # type: ignore[method-assign]
        replies: list[Any] = []
        client.expect_ack(lambda *reply: replies.append(reply))
        client.data_received(ACK_1)
        return replies

    assert asyncio.run(run()) == [({"ok": True},)]


@pytest.mark.parametrize(
    "chunks",
    [
        pytest.param([ACK_1[:3], ACK_1[3:] + ACK_2], id="split-across-reads"),
        pytest.param([ACK_1 + ACK_2], id="two-in-one-read"),
        pytest.param([ACK_1[:1], ACK_1[1:], ACK_2], id="header-split"),
    ],
)
def test_acks_not_alone_in_a_read_are_parsed(chunks: list[bytes]) -> None:
    replies, wire = acks_seen(chunks)
    assert replies == [({"ok": True},), ({"ok": True},)]
    assert not wire.aborted


def test_an_ack_where_an_attachment_must_come_ends_the_connection() -> None:
    replies, wire = acks_seen([ACK_1], before='451-["news",{"_placeholder":true,"num":0}]')
    assert replies == []
    assert wire.aborted


class OneReadServer:
    """A server that opens the websocket and Engine.IO, reads the client's CONNECT, then
    sends the namespace's CONNECT answer and ``after_connect`` in one write."""

    def __init__(self, after_connect: bytes) -> None:
        self.after_connect = after_connect
        self.done = asyncio.Event()

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.wait_for(self.done.wait(), 10)  # the connection closed on both ends
        self.server.close()
        await self.server.wait_closed()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await reader.readuntil(b"\r\n\r\n")
            key = next(
                line.split(b":", 1)[1].strip()
                for line in request.split(b"\r\n")
                if line.lower().startswith(b"sec-websocket-key:")
            )
            accept = base64.b64encode(hashlib.sha1(key + WS_GUID.encode()).digest())
            writer.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
            )
            writer.write(server_frame('0{"sid":"e","pingInterval":25000,"pingTimeout":20000}'))
            await reader.read(64)  # the client's CONNECT
            writer.write(server_frame('40{"sid":"s"}') + self.after_connect)
            while await reader.read(4096):  # until the client goes
                pass
        finally:
            writer.close()
            self.done.set()


def test_a_connection_ended_in_the_read_that_joined_it_is_not_reported_up() -> None:
    # a binary packet's header, then text where its attachment must come: "parse error"
    header = server_frame('451-["push",{"_placeholder":true,"num":0}]')
    out_of_step = header + server_frame('42["news"]')

    async def run() -> BaseException | None:
        async with OneReadServer(out_of_step) as url:
            client = Client(url)
            try:
                await client.connect(10)
            except ConnectionError as exc:
                return exc
            client.abort()
            return None

    error = asyncio.run(run())
    assert isinstance(error, ConnectionError)
    assert "parse error" in str(error)


def test_a_clean_join_in_one_read_is_up() -> None:
    async def run() -> bool:
        async with OneReadServer(b"") as url:
            client = Client(url)
            await client.connect(10)
            up = client.connected
            client.abort()
            return up

    assert asyncio.run(run())
