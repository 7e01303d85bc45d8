"""Only the configured event, with its one argument, reaches a handler.

python-socketio dispatches a client's event by name, so a client emitting
``connect`` or ``disconnect`` would run the lifecycle handlers (counting
refusals and abnormal disconnects, with a traceback), and an event with
extra arguments would raise in the handler. Here any other event is
refused before dispatch: counted (``rejected_event``), logged once per 100,
and answered ``{"ok": false, ...}`` when the client asked for an ack.
"""

from __future__ import annotations

from typing import Any

from socketio import packet

from receiver.guard import Guard
from receiver.hardened import HardenedServer


class EventServer(HardenedServer):
    """The hardened server (transport limits), dispatching only the audio event."""

    def __init__(self, event: str, guard: Guard, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.audio_event = event
        self.guard = guard

    async def _handle_event(self, eio_sid: str, namespace: str | None, id: Any, data: Any) -> None:
        if isinstance(data, list) and len(data) == 2 and data[0] == self.audio_event:
            await super()._handle_event(eio_sid, namespace, id, data)
            return
        name = repr(data[0])[:40] if isinstance(data, list) and data else "?"
        detail = f"only {self.audio_event!r} with one argument is accepted, got {name}"
        self.guard.refuse_event(detail)
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace or "/")
        if id is not None and self.manager.is_connected(sid, namespace or "/"):
            reply = {"ok": False, "error": detail}
            ack = self.packet_class(packet.ACK, namespace=namespace or "/", id=id, data=[reply])
            await self._send_packet(eio_sid, ack)
