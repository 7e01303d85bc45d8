"""Socket.IO 5 over Engine.IO 4 on one websocket: the packets a sender writes and reads.

No I/O. The encoding is python-socketio's and socket.io-parser's: a text
message ``4`` (Engine.IO MESSAGE) + the Socket.IO packet, whose binary
values travel as placeholders ``{"_placeholder":true,"num":i}`` in the text
and then as one binary message each. ``Reader`` takes the server's messages
one by one and returns what the client must act on; everything a hostile or
broken server can send is either one of those or a ``Malformed`` (of a fixed
kind, uplink_frame/sio_packets.py) or a ``Refusal`` (attachments past their
bounds, uplink_frame/attachments.py), never an exception from deep inside.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from uplink_frame.attachments import PendingAttachments, Refusal
from uplink_frame.sio_packets import (
    ACK,
    BINARY,
    BINARY_EVENT,
    CONNECT,
    EVENT,
    Malformed,
    check_shape,
)

# Engine.IO 4 packet types, as the first character of a text message
EIO_OPEN, EIO_CLOSE, EIO_PING, EIO_PONG, EIO_MESSAGE, EIO_UPGRADE, EIO_NOOP = "0123456"
_MAX_ID_DIGITS = 15
# the ack a server sends for nearly every frame, read without the JSON parser
PLAIN_ACK = re.compile(r'3(\d{1,15})\[\{"ok":true\}\]')
_KEY = "server"  # a client has one connection: its pending packet's key
_dumps = json.JSONEncoder(separators=(",", ":")).encode
_SCALARS = frozenset((str, int, float, bool, type(None)))  # exact types: no subclass


def engineio_url(url: str, path: str = "socket.io") -> str:
    """The websocket URL python-engineio derives from a server URL (its path is not used)."""
    parts = urlsplit(url)
    scheme = "wss" if parts.scheme in ("https", "wss") else "ws"
    query = f"{parts.query}&" if parts.query else ""
    return f"{scheme}://{parts.netloc}/{path.strip('/')}/?{query}transport=websocket&EIO=4"


def connect_packet(auth: dict[str, Any] | None) -> str:
    return EIO_MESSAGE + str(CONNECT) + (_dumps(auth) if auth else "")


def disconnect_packet() -> str:
    return EIO_MESSAGE + "1"


def event_packet(event: str, data: Any, ack_id: int | None) -> tuple[str, list[bytes]]:
    """The text message and the binary attachments that carry ``emit(event, data)``."""
    attachments: list[bytes] = []
    payload = _dumps([event, _deconstruct(data, attachments)])
    ack = "" if ack_id is None else str(ack_id)
    if attachments:
        return f"{EIO_MESSAGE}{BINARY_EVENT}{len(attachments)}-{ack}{payload}", attachments
    return f"{EIO_MESSAGE}{EVENT}{ack}{payload}", attachments


def _deconstruct(data: Any, attachments: list[bytes]) -> Any:
    if isinstance(data, bytes | bytearray | memoryview):
        attachments.append(data if isinstance(data, bytes) else bytes(data))
        return {"_placeholder": True, "num": len(attachments) - 1}
    if isinstance(data, dict):  # a frame's fields: scalars stay as they are, without a call
        return {
            key: value if type(value) in _SCALARS else _deconstruct(value, attachments)
            for key, value in data.items()
        }
    if isinstance(data, list | tuple):
        return [_deconstruct(item, attachments) for item in data]
    return data


def _reconstruct(data: Any, attachments: list[bytes]) -> Any:
    """Placeholders back to bytes; check_shape has bounded the depth and the numbers."""
    if isinstance(data, dict):
        if data.get("_placeholder") and "num" in data:
            return attachments[data["num"]]
        return {key: _reconstruct(value, attachments) for key, value in data.items()}
    if isinstance(data, list):
        return [_reconstruct(item, attachments) for item in data]
    return data


@dataclass(frozen=True, slots=True)
class Packet:
    """A Socket.IO packet from the server, its attachments already put back."""

    type: int
    namespace: str
    id: int | None
    data: Any


def decode(text: str) -> tuple[Packet, int]:
    """A Socket.IO packet's text and how many attachments follow it, or Malformed."""
    plain = PLAIN_ACK.fullmatch(text)
    if plain is not None:
        return Packet(ACK, "/", int(plain.group(1)), [{"ok": True}]), 0
    if not text or not text[0].isdigit():
        raise Malformed("undecodable")
    kind, rest, count = int(text[0]), text[1:], 0
    if kind in BINARY:
        count_text, dash, rest = rest.partition("-")
        if not dash or not count_text.isdigit() or len(count_text) > _MAX_ID_DIGITS:
            raise Malformed("undecodable")
        count = int(count_text)
    namespace = "/"
    if rest.startswith("/"):
        namespace, _, rest = rest.partition(",")
        namespace = namespace.partition("?")[0]
    digits = len(rest) - len(rest.lstrip("0123456789"))
    if digits > _MAX_ID_DIGITS:
        raise Malformed("undecodable")
    ack_id = int(rest[:digits]) if digits else None
    try:
        data = json.loads(rest[digits:]) if rest[digits:] else None
    except (ValueError, RecursionError):
        raise Malformed("undecodable") from None
    check_shape(kind, data, count)
    return Packet(kind, namespace, ack_id, data), count


@dataclass(frozen=True, slots=True)
class Ping:
    """Engine.IO asks for a pong."""


@dataclass(frozen=True, slots=True)
class Opened:
    """Engine.IO's handshake: how often the server pings and how long it waits."""

    ping_interval_s: float
    ping_timeout_s: float


@dataclass(frozen=True, slots=True)
class Closed:
    """Engine.IO CLOSE: the server ends the session."""


Event = Ping | Opened | Closed | Packet


class Reader:
    """The server's websocket messages in, what they mean out (one connection)."""

    def __init__(self, pending: PendingAttachments) -> None:
        self.pending = pending
        self._partial: tuple[Packet, int] | None = None
        self._got: list[bytes] = []

    @property
    def idle(self) -> bool:
        """Between packets: no packet waits for its attachments."""
        return self._partial is None

    def feed(self, message: str | bytes) -> Event | None:
        """One message: an Event, None (nothing to do yet), Malformed or Refusal raised."""
        now = time.monotonic()
        expired = self.pending.expired(now)
        if expired:
            self._forget()
            raise RefusedPacket(expired[0][1])
        if isinstance(message, bytes):
            return self._attachment(message)
        if message[:1] == EIO_MESSAGE:
            return self._text(message[1:], now)
        if message == EIO_PING:
            return Ping()
        if message[:1] == EIO_OPEN:
            return _opened(message[1:])
        if message[:1] == EIO_CLOSE:
            return Closed()
        if message[:1] in (EIO_PONG, EIO_NOOP, EIO_UPGRADE):
            return None
        raise Malformed("undecodable")

    def _text(self, text: str, now: float) -> Packet | None:
        if self._partial is not None:  # a packet's attachments are binary: never text
            self._forget()
            raise Malformed("unexpected_text")
        refusal = self.pending.header(text)
        if refusal is not None:
            raise RefusedPacket(refusal)
        packet, count = decode(text)
        if not count:
            return packet
        self._partial = (packet, count)
        self.pending.started(_KEY, now)
        return None

    def _attachment(self, data: bytes) -> Packet | None:
        if self._partial is None:
            raise Malformed("unexpected_attachment")
        cut = self.pending.attachment(_KEY, len(data))
        if cut:
            self._forget()
            raise RefusedPacket(cut[0][1])
        self._got.append(data)
        packet, count = self._partial
        if len(self._got) < count:
            return None
        whole = Packet(
            packet.type, packet.namespace, packet.id, _reconstruct(packet.data, self._got)
        )
        self._forget()
        return whole

    def _forget(self) -> None:
        self._partial, self._got = None, []
        self.pending.finished(_KEY)


class RefusedPacket(Exception):
    """Attachments past their bounds: the connection must go (uplink_frame/attachments.py)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


def _opened(text: str) -> Opened:
    try:
        info = json.loads(text)
        interval, timeout = info["pingInterval"], info["pingTimeout"]
    except (ValueError, TypeError, LookupError, RecursionError):
        raise Malformed("undecodable") from None
    if not all(type(v) in (int, float) and 0 < v <= 3_600_000 for v in (interval, timeout)):
        raise Malformed("undecodable")
    return Opened(interval / 1000, timeout / 1000)


__all__ = ["Closed", "Event", "Malformed", "Opened", "Packet", "Ping", "Reader", "RefusedPacket"]
