"""Check a Socket.IO packet before python-socketio dispatches it.

python-socketio trusts what it decodes: an event that is not a list, a
placeholder pointing past the attachments, a binary attachment nobody
announced, each raises deep in its dispatcher and is logged with a full
traceback (twice: engine.io's logger and ours). ``check`` decodes a text
packet exactly as python-socketio will and refuses, with a ``Malformed`` of
a fixed ``kind``, every shape its dispatcher assumes away. Whatever then
still raises in dispatch is a real error (a handler's bug, a full disk) and
is logged as one. ``check_shape`` is the same refusal for a packet decoded
by other means (sender_proc/sio_wire.py), so this module loads python-socketio
only when ``check`` decodes. Shared by the receiver and the senders' client.
"""

from __future__ import annotations

from typing import Any

# Socket.IO protocol 5 packet types (socketio/packet.py, socket.io-parser)
CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT, BINARY_ACK = range(7)
_MAX_DEPTH = 32  # a frame is 3 deep; a batch 5
_EVENTS = (EVENT, BINARY_EVENT)
_ACKS = (ACK, BINARY_ACK)
BINARY = (BINARY_EVENT, BINARY_ACK)


class Malformed(Exception):
    """A packet refused before dispatch; ``kind`` is a fixed name, never input."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def check(message: str | bytes, packet_class: Any = None) -> Any:
    """The packet as python-socketio decodes it (``packet_class``), or Malformed."""
    if packet_class is None:
        from socketio import packet

        packet_class = packet.Packet
    if not isinstance(message, str):
        raise Malformed("unexpected_attachment")
    try:
        pkt = packet_class(encoded_packet=message)
    except (ValueError, TypeError, LookupError, RecursionError):
        raise Malformed("undecodable") from None
    if pkt.namespace is not None and not isinstance(pkt.namespace, str):
        raise Malformed("namespace")
    check_shape(pkt.packet_type, pkt.data, pkt.attachment_count)
    return pkt


def check_shape(packet_type: int, data: Any, attachment_count: int) -> None:
    """Malformed unless a decoded packet has the shape its type promises."""
    if packet_type not in range(BINARY_ACK + 1):
        raise Malformed("packet_type")
    if packet_type in _EVENTS and not (data and isinstance(data, list)):
        raise Malformed("event_shape")
    if packet_type in _EVENTS and not isinstance(data[0], str):
        raise Malformed("event_name")
    if packet_type in _ACKS and not isinstance(data, list):
        raise Malformed("ack_shape")
    if packet_type in BINARY and attachment_count <= 0:
        raise Malformed("attachment_count")
    if not _placeholders_fit(data, attachment_count):
        raise Malformed("placeholder")


def _placeholders_fit(data: Any, count: int) -> bool:
    """Every placeholder names an attachment that will come; nesting is bounded."""
    stack = [(data, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > _MAX_DEPTH:
            return False
        if isinstance(item, dict):
            if item.get("_placeholder") and "num" in item:
                num = item["num"]
                if not (type(num) is int and 0 <= num < count):
                    return False
                continue
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True
