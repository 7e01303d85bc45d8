"""Below Socket.IO: Engine.IO packets, accept() errors and the libraries' own log lines.

- Engine.IO decodes each websocket text message before anyone can check it,
  and a bad one (``x``, an empty message, a ping with 10,000 nested brackets)
  raises out of its websocket handler: aiohttp logs a traceback per message.
  ``EngineServer`` checks each message first; a bad one closes that
  connection, counted in ``malformed_packets``.
- ``accept()`` failing with EMFILE is retried by asyncio every second, each
  time with a traceback: counted in ``accept_errors``, logged once per 100.
- python-socketio and engine.io log per event at INFO and refused sessions at
  WARNING: given loggers at WARNING and ERROR, and every library logger here
  passes at most one line per 100 of a kind (the first one in full, so a real
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
from engineio.async_drivers import aiohttp as eio_aiohttp

from uplink_frame.ratelog import LOG_EVERY, RateLog

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
    async def wait(self) -> Any:
        message = await super().wait()
        if engine_message_ok(message):
            return message
        self.server.malformed("engineio")
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
        self.seen: Counter[tuple[str, str]] = Counter()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg)[:80])
        if key not in self.seen and len(self.seen) >= 256:
            key = (record.name, "other")
        self.seen[key] += 1
        return self.seen[key] % LOG_EVERY == 1


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
    """Out of fds in accept(): one counter, one line per 100, not a traceback a second."""
    rate = RateLog(logger)

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in _OUT_OF_FDS:
            counts["accept_errors"] += 1
            rate.hit("accept", "receiver %d: accept() failed: %s", os.getpid(), exc.strerror)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handle)
