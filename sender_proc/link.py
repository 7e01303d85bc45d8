"""The Socket.IO link: websocket only, our own reconnect policy, prunable acks."""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from sender_proc.connect_opts import ConnectOpts
from sender_proc.linkerror import Failure, LinkError, classify, server_reason
from sender_proc.sio_client import Client, Refused

logger = logging.getLogger(__name__)
_GOODBYE_S = 1.0


def backoff_delays(initial_s: float, cap_s: float) -> Iterator[float]:
    """Doubling, capped, with full jitter on the upper half (as python-socketio does)."""
    delay = initial_s
    while True:
        yield delay * (0.5 + random.random() / 2)
        delay = min(delay * 2, cap_s)


class Link:
    def __init__(
        self,
        url: str,
        connect_timeout_s: float,
        backoff: tuple[float, float],
        on_up: Callable[[], None],
        on_down: Callable[[], None],
        *,
        opts: ConnectOpts | None = None,
    ) -> None:
        self.url = url
        self.opts = opts or ConnectOpts()
        self.connect_timeout_s = connect_timeout_s
        self.backoff = backoff
        self.reconnects = 0
        self.last_error: LinkError | None = None
        self.failures: dict[str, int] = {}  # connect failures by Failure value
        self._down = asyncio.Event()
        self._down.set()
        self._on_up, self._on_down = on_up, on_down
        self._client = self._new_client()
        self._refused: Counter[str] = Counter()

    def _new_client(self) -> Client:
        client = Client(self.url, auth=self.opts.auth(), ssl_context=self.opts.ssl_context)
        client.on_down = lambda why: self._lost(client, why)
        return client

    def _lost(self, client: Client, why: str) -> None:
        """The server or the network ended the connection: reconnect with a fresh client."""
        if client is not self._client or self._down.is_set():
            return
        logger.warning("sender %d lost %s (%s)", os.getpid(), self.url, why)
        self._abandon()
        self._down.set()
        self._on_down()

    async def keep_connected(self) -> None:
        """Connect, and reconnect with backoff whenever the link drops; runs until cancelled."""
        delays = backoff_delays(*self.backoff)
        while True:
            await self._down.wait()
            try:
                await self._client.connect(self.connect_timeout_s)
            except Exception as exc:
                delay = next(delays)
                refusal = server_reason(exc.data) if isinstance(exc, Refused) else None
                self._failed(classify(self.url, exc, refusal), delay)
                self._abandon()
                await asyncio.sleep(delay)
                continue
            logger.info("sender %d connected to %s", os.getpid(), self.url)
            self.reconnects += 1
            self.last_error = None
            delays = backoff_delays(*self.backoff)
            self._down.clear()
            self._on_up()

    def _failed(self, error: LinkError, delay: float) -> None:
        """A refusal is loud on every try: a token rotation must not go unseen."""
        self.last_error = error
        self.failures[error.kind.value] = self.failures.get(error.kind.value, 0) + 1
        level = logging.WARNING if error.kind is Failure.REFUSED else logging.INFO
        logger.log(level, "sender %d: %s, retry in %.2f s", os.getpid(), error.describe(), delay)

    def expect_ack(self, callback: Callable[..., Any]) -> int:
        """File ``callback`` under a new ack id (before the emit that asks for it)."""
        return self._client.expect_ack(callback)

    def emit(self, event: str, data: dict[str, Any], ack_id: int | None) -> None:
        """Emit, asking for ack ``ack_id`` if given (check ``has_room`` first)."""
        self._client.emit(event, data, ack_id)

    def has_room(self) -> bool:
        """The socket's send buffer is below its high-water mark."""
        return self._client.writable.is_set()

    async def writable(self) -> None:
        """Until the socket's send buffer drains below its mark, or the connection ends."""
        await self._client.writable.wait()

    def drop(self) -> None:
        """Abandon a stalled connection at once; keep_connected reconnects with a fresh client.

        A stalled peer does not answer a polite close, so the socket is aborted.
        """
        self._abandon()
        if not self._down.is_set():
            logger.warning("sender %d dropped %s (stalled)", os.getpid(), self.url)
            self._down.set()
            self._on_down()

    def _abandon(self) -> None:
        self._refused.update(self._client.refusals)
        old, self._client = self._client, self._new_client()
        old.abort()

    @property
    def refusals(self) -> dict[str, int]:
        """What the server sent that the client refused, over this sender's life."""
        return {k: self._refused[k] + v for k, v in self._client.refusals.items()}

    def forget_ack(self, ack_id: int) -> None:
        self._client.forget_ack(ack_id)

    @property
    def up(self) -> bool:
        return not self._down.is_set() and self._client.connected

    async def close(self) -> None:
        """Tell the server this is a clean stop ("client disconnect"), bounded."""
        await self._client.close(_GOODBYE_S)
        self._down.set()
