"""The senders' Socket.IO client, guarded against what a hostile or broken server pushes.

The same bounds as the receiver's (uplink_frame/attachments.py): a server
that announces attachments and never completes them made a sender grow to
440 MB. Past a limit the packet is dropped, the connection aborted (link.py
reconnects) and the refusal counted (``refused_attachment_*`` in the
heartbeat). A malformed packet is dropped and counted (``malformed_packets``),
one log line per 100 of a kind, never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import socketio

from uplink_frame.attachments import AttachmentLimits, PendingAttachments, Refusal
from uplink_frame.ratelog import RateLog
from uplink_frame.sio_packets import Malformed, check

logger = logging.getLogger(__name__)
_KEY = "server"  # one connection per client
COUNTERS = ("malformed_packets", *(r.counter for r in Refusal))


class GuardedClient(socketio.AsyncClient):  # type: ignore[misc]
    def __init__(self, *args: Any, limits: AttachmentLimits | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pending = PendingAttachments(limits or AttachmentLimits())
        self.refusals: Counter[str] = Counter(dict.fromkeys(COUNTERS, 0))
        self.rate = RateLog(logger)
        self._aborting: asyncio.Task[Any] | None = None
        self.on_refused: Callable[[], None] | None = None

    async def _handle_eio_message(self, data: str | bytes) -> None:
        refusal = self._refusal(data, time.monotonic())
        if refusal is not None:
            self._refuse(refusal)
            return
        if self._binary_packet is None and not self._well_formed(data):
            return
        try:
            await super()._handle_eio_message(data)
        finally:
            if self._binary_packet is None:
                self.pending.finished(_KEY)
            else:
                self.pending.started(_KEY, time.monotonic())

    def _refusal(self, data: str | bytes, now: float) -> Refusal | None:
        expired = self.pending.expired(now)
        if expired:
            return expired[0][1]
        if self._binary_packet is not None:  # python-socketio takes any message as an attachment
            cut = self.pending.attachment(_KEY, len(data))
            return cut[0][1] if cut else None
        return self.pending.header(data)

    def _well_formed(self, data: str | bytes) -> bool:
        try:
            check(data, self.packet_class)
        except Malformed as exc:
            self._hit("malformed_packets", exc.kind)
            return False
        return True

    def _refuse(self, refusal: Refusal) -> None:
        """Drop the packet and give up the connection (``on_refused``: link.py replaces us)."""
        self._hit(refusal.counter, refusal.value)
        self._binary_packet = None
        self.pending.finished(_KEY)
        if self.on_refused is not None:
            self.on_refused()
        elif self._aborting is None or self._aborting.done():  # never awaited from the read loop
            self._aborting = asyncio.create_task(self.eio.disconnect(abort=True))

    def _hit(self, counter: str, kind: str) -> None:
        self.refusals[counter] += 1
        self.rate.hit(f"{counter}:{kind}", "sender %d: refused from server: %s", os.getpid(), kind)
