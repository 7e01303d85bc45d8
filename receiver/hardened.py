"""python-socketio's server with bounds on what a peer can make it hold, and quiet about it.

Hooks, each small, on the documented flow of python-socketio 5 / engine.io 4:
``_handle_eio_connect`` (session limits), ``_handle_connect`` (auth done),
``_handle_eio_message`` (packet checks, pending attachments),
``_handle_eio_disconnect`` (forget). The policy lives in receiver/limits.py,
uplink_frame/attachments.py and uplink_frame/sio_packets.py; this module acts:
counts, logs at most one line per 100 of a kind, closes connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import Counter
from collections.abc import Hashable
from typing import Any

import socketio
from socketio.packet import CONNECT, CONNECT_ERROR

from receiver.config import ReceiverConfig
from receiver.limits import HANDSHAKE_ROOM, SessionRefusal, Sessions, fd_bound
from receiver.wire import EngineServer, quiet_libraries
from uplink_frame.attachments import AttachmentLimits, PendingAttachments, Refusal
from uplink_frame.ratelog import RateLog
from uplink_frame.sio_packets import BINARY, Malformed, check

logger = logging.getLogger(__name__)
_SWEEP_S = 0.25
COUNTERS = (
    "malformed_packets",
    "accept_errors",
    "refused_connections",
    *(r.counter for r in Refusal),
    *(r.counter for r in SessionRefusal),
)


def attachment_limits(config: ReceiverConfig, transport_cap: int) -> AttachmentLimits:
    return AttachmentLimits(
        max_count=config.max_attachments,
        max_bytes=transport_cap,
        max_total_bytes=config.max_pending_attachment_bytes,
        timeout_s=config.attachment_timeout_ms / 1000,
    )


class HardenedServer(socketio.AsyncServer):  # type: ignore[misc]
    def __init__(self, config: ReceiverConfig, limits: AttachmentLimits, **kwargs: Any) -> None:
        self.counts: Counter[str] = Counter(dict.fromkeys(COUNTERS, 0))
        self.pending = PendingAttachments(limits)
        max_sessions = fd_bound(config.max_sessions)
        auth_s = config.auth_timeout_ms / 1000
        self.sessions = Sessions(
            max_sessions, config.max_sessions_per_peer, auth_s, config.session_rate
        )
        self.max_connections = fd_bound(config.max_sessions + HANDSHAKE_ROOM)
        self.rate = RateLog(logger)
        self._sweeper: asyncio.Task[None] | None = None
        sio_logger, eio_logger = quiet_libraries()
        super().__init__(logger=sio_logger, engineio_logger=eio_logger, **kwargs)
        self.eio.malformed = self._engine_malformed

    def _engineio_server_class(self) -> type:
        return EngineServer

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        request = environ.get("aiohttp.request")
        peer = str(getattr(request, "remote", None) or environ.get("REMOTE_ADDR", "?"))
        refusal = self.sessions.admit(eio_sid, peer, time.monotonic())
        if refusal is not None:  # reset, not a 401: a refused peer costs no HTTP round trip
            self._count(refusal.counter, "session refused (%s) from %s", refusal.value, peer)
            if request is not None and request.transport is not None:
                request.transport.abort()
            return False
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep())
        return await super()._handle_eio_connect(eio_sid, environ)

    async def _handle_connect(self, eio_sid: str, namespace: Any, *args: Any) -> None:
        await super()._handle_connect(eio_sid, namespace, *args)
        if self.manager.sid_from_eio_sid(eio_sid, namespace or "/"):
            self.sessions.authed(eio_sid)

    async def _handle_eio_disconnect(self, eio_sid: str, *args: Any) -> None:
        self.sessions.closed(eio_sid)
        self.pending.finished(eio_sid)
        await super()._handle_eio_disconnect(eio_sid, *args)

    async def _handle_eio_message(self, eio_sid: str, data: str | bytes) -> None:
        if not await self._admit(eio_sid, data):
            return
        try:
            await super()._handle_eio_message(eio_sid, data)
        finally:
            if eio_sid in self._binary_packet:
                self.pending.started(eio_sid, time.monotonic())
            else:
                self.pending.finished(eio_sid)

    async def _admit(self, eio_sid: str, data: str | bytes) -> bool:
        """Whether python-socketio may parse this message; refusals close connections."""
        if eio_sid in self._binary_packet:  # the parser takes any message as an attachment
            cut = self.pending.attachment(eio_sid, len(data))
        elif (too_many := self.pending.header(data)) is not None:
            cut = [(eio_sid, too_many)]
        else:
            return self._well_formed(eio_sid, data)
        for key, refusal in cut:
            await self.cut(key, refusal.counter)
        return all(key != eio_sid for key, _ in cut)

    def _well_formed(self, eio_sid: str, data: str | bytes) -> bool:
        try:
            self._fits_session(eio_sid, check(data, self.packet_class))
        except Malformed as exc:  # dropped; the connection stays, as for a bad frame
            self._count("malformed_packets", "malformed packet (%s) from %s", exc.kind, eio_sid)
            return False
        return True

    def _fits_session(self, eio_sid: str, pkt: Any) -> None:
        """What python-socketio's server assumes of a well-formed packet's place."""
        if pkt.packet_type == CONNECT_ERROR:
            raise Malformed("connect_error")  # only a server sends those
        if pkt.packet_type == CONNECT and eio_sid not in self.environ:
            raise Malformed("connect_after_disconnect")  # python-socketio: KeyError
        if pkt.packet_type in BINARY and not self.manager.sid_from_eio_sid(
            eio_sid, pkt.namespace or "/"
        ):
            raise Malformed("binary_before_connect")

    async def cut(self, eio_sid: Hashable, counter: str) -> None:
        """Drop what the peer's parser holds and close its connection, counted.

        The TCP connection is aborted first: a polite websocket close reads
        (and throws away) whatever the peer keeps sending for up to 10 s.
        """
        self._count(counter, "closing %s (%s)", counter, eio_sid)
        self._binary_packet.pop(eio_sid, None)
        self.pending.finished(eio_sid)
        request = self.environ.get(eio_sid, {}).get("aiohttp.request")
        if request is not None and request.transport is not None:
            request.transport.abort()
        with contextlib.suppress(Exception):
            await self.eio.disconnect(eio_sid)

    def _engine_malformed(self, kind: str) -> None:
        self._count("malformed_packets", "malformed packet (%s), closing", kind)

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(_SWEEP_S)
            now = time.monotonic()
            for key, refusal in self.pending.expired(now):
                await self.cut(key, refusal.counter)
            for sid in self.sessions.overdue(now):
                self.sessions.closed(sid)  # counted once, even if the close is slow
                await self.cut(sid, SessionRefusal.AUTH_TIMEOUT.counter)

    async def close_all(self, timeout_s: float) -> None:
        """Stop: close every client connection, bounded; the caller then stops the site."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        if self.eio.sockets:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.eio.disconnect(), timeout_s)

    def _count(self, counter: str, msg: str, kind: str, *args: object) -> None:
        """Count; log the 1st, 101st ... of each ``kind`` (a fixed name, never input)."""
        self.counts[counter] += 1
        self.rate.hit(f"{counter}:{kind}", "receiver %d: " + msg, os.getpid(), kind, *args)
