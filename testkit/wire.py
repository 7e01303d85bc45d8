"""A raw Engine.IO / Socket.IO websocket client: sends exactly the bytes a test chooses.

python-socketio's own client cannot send a malformed packet or an unfinished
binary one; this one can. Used by tests/receiver/test_transport_limits.py, the wire fuzz
test and bench/hostile.py.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

OPEN, MESSAGE = "0", "4"


def ws_url(http_url: str) -> str:
    return http_url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"


class RawSession:
    """One websocket: Engine.IO open done; ``connect`` does the Socket.IO connect."""

    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.http, self.ws = http, ws

    @classmethod
    async def open(cls, http: aiohttp.ClientSession, url: str) -> RawSession:
        ws = await http.ws_connect(ws_url(url), timeout=aiohttp.ClientWSTimeout(ws_close=1.0))
        first = await asyncio.wait_for(ws.receive(), 10)
        assert isinstance(first.data, str) and first.data.startswith(OPEN), first
        return cls(http, ws)

    async def connect(self, auth: dict[str, Any] | None = None) -> str:
        """Socket.IO connect to "/"; the reply packet (``40{...}`` when admitted)."""
        await self.ws.send_str("40" + (json.dumps(auth) if auth else ""))
        return await self.text()

    async def text(self, timeout: float = 10) -> str:
        """The next text message that is not a ping (answered)."""
        while True:
            msg = await asyncio.wait_for(self.ws.receive(), timeout)
            if msg.type != aiohttp.WSMsgType.TEXT:
                return ""
            if msg.data == "2":
                await self.ws.send_str("3")
                continue
            return str(msg.data)

    async def send(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            await self.ws.send_bytes(message)
        else:
            await self.ws.send_str(message)

    async def closed_by_server(self, timeout: float = 10) -> bool:
        """Read until the server closes the websocket (True), or ``timeout`` (False)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            try:
                msg = await asyncio.wait_for(self.ws.receive(), deadline - loop.time())
            except TimeoutError:
                return False
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                return True
            if msg.type == aiohttp.WSMsgType.TEXT and msg.data == "1":  # Engine.IO close
                return True
            if msg.type == aiohttp.WSMsgType.TEXT and msg.data == "2":
                await self.ws.send_str("3")
        return False

    async def close(self) -> None:
        await self.ws.close()


def binary_header(count: int, event: str = "audio_data") -> str:
    """A Socket.IO BINARY_EVENT announcing ``count`` attachments (placeholders for each)."""
    holders = [{"_placeholder": True, "num": i} for i in range(count)]
    return f"45{count}-" + json.dumps([event, {"audio": holders}])
