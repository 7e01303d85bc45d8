"""Below Socket.IO: Engine.IO packets, accept() errors and the libraries' own log lines.

- Engine.IO decodes each websocket text message before anyone can check it,
  and a bad one (``x``, an empty message, a ping with 10,000 nested brackets)
  raises out of its websocket handler: aiohttp logs a traceback per message.
  ``EngineServer`` checks each message first; a bad one closes that
  connection, counted in ``malformed_packets``.
- ``accept()`` failing with EMFILE is retried by asyncio every second, each
  time with a traceback: counted in ``accept_errors``, logged once per 100.
- Every accepted TCP connection is an fd before it is a session: past
  ``max_connections`` (the session cap plus room for handshakes, within the
  fd limit) a new one is aborted at once, counted in ``refused_connections``,
  so accept() keeps an fd to work with. (CPython 3.11's accept loop does not
  stop at EMFILE: it retries up to the backlog, and reschedules itself as
  often, which is how 1,100 idle sessions made 447,000 tracebacks.)
- python-socketio and engine.io log per event at INFO and refused sessions at
  WARNING: given loggers at WARNING and ERROR, and every library logger here
  passes at most one line per 100 of a kind and per second (the first one in full, so a real
  error still shows its traceback).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
from collections import Counter
from collections.abc import Callable
from typing import Any

import engineio
from aiohttp import web
from engineio.async_drivers import aiohttp as eio_aiohttp

from uplink_frame.ratelog import RateGate, RateLog

logger = logging.getLogger(__name__)
_LIBRARY_LOGGERS = (
    "socketio.server",
    "engineio.server",
    "aiohttp.server",
    "aiohttp.web",
    "asyncio",
)
_OUT_OF_FDS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
_ENGINE_TYPES = "0123456"  # open, close, ping, pong, message, upgrade, noop
_MESSAGE = "4"


def engine_message_ok(message: str | bytes) -> bool:
    """What a websocket client may send: binary, or a text packet with no JSON to decode.

    Engine.IO json-decodes a text packet whose 2nd character is not a digit;
    no client message needs that (``2probe``, ``3``, ``5``, ``42[...]``).
    """
    if isinstance(message, bytes):
        return True
    if not message or message[0] not in _ENGINE_TYPES:
        return False
    rest = message[1:]
    if message[0] == _MESSAGE:
        return rest[:1].isdigit()
    return rest == "" or rest.isalnum()


class _CheckedWebSocket(eio_aiohttp.WebSocket):  # type: ignore[misc]
    def __init__(self, handler: Any, server: EngineServer) -> None:
        super().__init__(handler, server)
        self.engine = server  # engine.io < 4.12 does not keep it

    async def __call__(self, environ: dict[str, Any]) -> Any:
        # as engine.io's driver does, but engine.io < 4.12 let aiohttp take
        # websocket messages of any size (max_msg_size=0)
        self._sock = web.WebSocketResponse(max_msg_size=self.engine.max_http_buffer_size)
        await self._sock.prepare(environ["aiohttp.request"])
        self.environ = environ
        await self.handler(self)
        return self._sock

    async def wait(self) -> Any:
        message = await super().wait()
        if engine_message_ok(message):
            return message
        self.engine.malformed("engineio")
        return None  # engine.io's reader takes None as "the client left" and closes cleanly


class EngineServer(engineio.AsyncServer):  # type: ignore[misc]
    malformed: Callable[[str], None] = staticmethod(lambda kind: None)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        drivers: dict[str, Any] = dict(getattr(self, "_async"))  # noqa: B009  (mypy: untyped)
        self._async = {**drivers, "websocket": _CheckedWebSocket}


class _RateFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.gate = RateGate(max_kinds=256)

    def filter(self, record: logging.LogRecord) -> bool:
        return self.gate.due(f"{record.name}:{str(record.msg)[:80]}")[0]


def quiet_libraries() -> tuple[logging.Logger, logging.Logger]:
    """The loggers to hand python-socketio and engine.io; rate filters on all of them."""
    for name in _LIBRARY_LOGGERS:
        lib = logging.getLogger(name)
        if not any(isinstance(f, _RateFilter) for f in lib.filters):
            lib.addFilter(_RateFilter())
    sio, eio = logging.getLogger("socketio.server"), logging.getLogger("engineio.server")
    sio.setLevel(logging.WARNING)
    eio.setLevel(logging.ERROR)
    return sio, eio


def guard_accept_errors(loop: asyncio.AbstractEventLoop, counts: Counter[str]) -> None:
    """Loop errors: out of fds in accept() counted; every kind logged once per 100."""
    rate, gate = RateLog(logger), RateGate()

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in _OUT_OF_FDS:
            counts["accept_errors"] += 1
            rate.hit("accept", "receiver %d: accept() failed: %s", os.getpid(), exc.strerror)
            return
        if gate.due(str(context.get("message"))[:80])[0]:  # asyncio's fixed texts, not input
            loop.default_exception_handler(context)

    loop.set_exception_handler(handle)


class _Refused(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.abort()  # the fd goes back at once; aiohttp never sees this connection


class _CappedServer(web.Server):
    """aiohttp's protocol factory, refusing connections past ``cap`` before aiohttp sees them."""

    cap = 0
    counts: Counter[str]
    rate: RateLog

    def __call__(self) -> Any:
        if len(self.connections) < self.cap:
            return super().__call__()
        self.counts["refused_connections"] += 1
        self.rate.hit("connections", "receiver %d: over %d connections", os.getpid(), self.cap)
        return _Refused()


def cap_connections(runner: web.AppRunner, cap: int, counts: Counter[str]) -> None:
    """Bound the TCP connections the runner's server takes (its factory is the hook)."""
    server = runner.server
    assert server is not None and type(server) is web.Server
    server.__class__ = _CappedServer  # the same object, one method more: no private state touched
    assert isinstance(server, _CappedServer)
    server.cap, server.counts, server.rate = cap, counts, RateLog(logger)
