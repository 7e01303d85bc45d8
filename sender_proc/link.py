"""The Socket.IO link: websocket only, our own reconnect policy, prunable acks."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import socketio

from sender_proc.connect_opts import ConnectOpts
from sender_proc.linkerror import Failure, LinkError, classify, server_reason
from sender_proc.sio_guard import GuardedClient

logger = logging.getLogger(__name__)
_CLOSE_ABANDONED_S = 10.0
_GOODBYE_S = 1.0


class _Client(GuardedClient):
    """Remembers the ack id of the last emit so an overdue callback can be dropped.

    python-socketio keeps every ack callback until the ack arrives or the link
    drops; behind a server that never acks that dict would grow forever.
    """

    last_ack_id = 0

    def _generate_ack_id(self, namespace: str | None, callback: Any) -> int:
        ack_id: int = super()._generate_ack_id(namespace, callback)
        self.last_ack_id = ack_id
        return ack_id


def backoff_delays(initial_s: float, cap_s: float) -> Any:
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
        self._refusal: str | None = None
        self._down = asyncio.Event()
        self._down.set()
        self._on_up, self._on_down = on_up, on_down
        self._client = self._new_client()
        self._refused: Counter[str] = Counter()
        self._abandoned: set[asyncio.Task[None]] = set()

    def _new_client(self) -> _Client:
        client = _Client(reconnection=False, handle_sigint=False, **self.opts.client_kwargs())
        client.on("connect", functools.partial(self._connected, client))
        client.on("disconnect", functools.partial(self._disconnected, client))
        client.on("connect_error", functools.partial(self._connect_error, client))
        client.on_refused = functools.partial(self._guard_refused, client)
        return client

    def _guard_refused(self, client: _Client) -> None:
        """The guard refused what the server sent: abandon this connection, reconnect afresh."""
        if client is self._client:
            self._abandon()
            if not self._down.is_set():
                self._down.set()
                self._on_down()

    async def _connected(self, client: _Client) -> None:
        if client is not self._client:
            return
        logger.info("sender %d connected to %s", os.getpid(), self.url)
        self._down.clear()

    async def _connect_error(self, client: _Client, data: Any = None, *_: Any) -> None:
        if client is self._client:
            self._refusal = server_reason(data)

    async def _disconnected(self, client: _Client, reason: Any = None) -> None:
        if client is not self._client or self._down.is_set():
            return
        if reason != socketio.AsyncClient.reason.CLIENT_DISCONNECT:
            logger.warning("sender %d lost %s (%s)", os.getpid(), self.url, reason)
            # a server's disconnect leaves python-socketio's client half open
            # ("Already connected" forever): reconnect with a fresh one
            self._abandon()
        self._down.set()
        self._on_down()

    async def keep_connected(self) -> None:
        """Connect, and reconnect with backoff whenever the link drops; runs until cancelled."""
        delays = backoff_delays(*self.backoff)
        while True:
            await self._down.wait()
            self._refusal = None
            try:
                await asyncio.wait_for(
                    self._client.connect(
                        self.url,
                        transports=["websocket"],
                        wait_timeout=self.connect_timeout_s,
                        **self.opts.connect_kwargs(),
                    ),
                    self.connect_timeout_s + 1,
                )
            except (socketio.exceptions.ConnectionError, TimeoutError, OSError) as exc:
                delay = next(delays)
                self._failed(classify(self.url, exc, self._refusal), delay)
                self._abandon()  # a connect cut short may leave the client half open
                await asyncio.sleep(delay)
                continue
            self.reconnects += 1
            self.last_error = None
            delays = backoff_delays(*self.backoff)
            # python-socketio runs the connect handler before it sets
            # ``connected``: only now may the pump emit what waited for the link
            if self.up:
                self._on_up()

    def _failed(self, error: LinkError, delay: float) -> None:
        """A refusal is loud on every try: a token rotation must not go unseen."""
        self.last_error = error
        self.failures[error.kind.value] = self.failures.get(error.kind.value, 0) + 1
        level = logging.WARNING if error.kind is Failure.REFUSED else logging.INFO
        logger.log(level, "sender %d: %s, retry in %.2f s", os.getpid(), error.describe(), delay)

    async def _reset(self) -> None:
        with contextlib.suppress(Exception):
            await self._client.disconnect()
        self._down.set()

    async def emit(
        self, event: str, data: dict[str, Any], callback: Callable[..., Any] | None
    ) -> int:
        """Emit, asking for an ack if there is a callback; the ack id it is filed under."""
        await self._client.emit(event, data, callback=callback)
        return self._client.last_ack_id

    def queued_packets(self) -> int:
        """Packets waiting in Engine.IO's (unbounded) send queue."""
        queue = getattr(self._client.eio, "queue", None)
        return queue.qsize() if queue is not None else 0

    async def drop(self) -> None:
        """Abandon a stalled connection; keep_connected reconnects with a fresh client.

        Closing a websocket politely waits on the peer (aiohttp: up to 10 s),
        and a stalled peer does not answer: the old client closes in the
        background, bounded, and nothing it does later reaches us.
        """
        self._abandon()
        if not self._down.is_set():
            logger.warning("sender %d dropped %s (stalled)", os.getpid(), self.url)
            self._down.set()
            self._on_down()

    def _abandon(self) -> None:
        self._refused.update(self._client.refusals)
        old, self._client = self._client, self._new_client()
        task = asyncio.create_task(_close_quietly(old))
        self._abandoned.add(task)
        task.add_done_callback(self._abandoned.discard)

    @property
    def refusals(self) -> dict[str, int]:
        """What the server sent that the guard refused, over this sender's life."""
        return {k: self._refused[k] + v for k, v in self._client.refusals.items()}

    def forget_ack(self, ack_id: int) -> None:
        self._client.callbacks.get("/", {}).pop(ack_id, None)

    @property
    def up(self) -> bool:
        return not self._down.is_set() and bool(self._client.connected)

    async def close(self) -> None:
        await self._say_goodbye()
        await self._reset()
        for task in list(self._abandoned):
            task.cancel()
        await asyncio.gather(*self._abandoned, return_exceptions=True)

    async def _say_goodbye(self) -> None:
        """Tell the server this is a clean stop, not a crash.

        python-socketio's ``disconnect`` closes the websocket before its send
        queue is written, so the server sees "transport close", as after a
        crash (measured, 5.18). Sending the DISCONNECT packet first and waiting,
        bounded, for the queue to be written makes it "client disconnect".
        """
        queue = getattr(self._client.eio, "queue", None)
        if not self.up or queue is None:
            return
        with contextlib.suppress(Exception):
            for namespace in list(self._client.namespaces):
                packet = self._client.packet_class(socketio.packet.DISCONNECT, namespace=namespace)
                await self._client._send_packet(packet)
            await asyncio.wait_for(queue.join(), _GOODBYE_S)


async def _close_quietly(client: _Client) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.eio.disconnect(abort=True), _CLOSE_ABANDONED_S)
