"""Bounds on Socket.IO binary packets whose attachments have not all arrived.

A Socket.IO binary packet is a text header announcing N attachments
(``51-["event",{"_placeholder":true,"num":0}]``) followed by N binary
messages. python-socketio keeps the header and every attachment received so
far until the N-th arrives, with no bound: a peer that announces many and
never finishes grows the process without limit (the receiver went from 45 MB
to 1 GB; advisory GHSA-55mf-67qm-4wpg, fixed the same way in socketioxide,
and Node's socket.io-parser caps the count too). ``PendingAttachments`` is
the policy, without I/O: it decides, the hooks (receiver/hardened.py,
sender_proc/sio_client.py) drop the packet and close the connection.

Refusals, each a counter ``refused_<value>``:
- ``attachment_count``: a header announces more than ``max_count``;
- ``attachment_bytes``: one packet's attachments exceed ``max_bytes``;
- ``attachment_total``: all connections' pending attachments exceed
  ``max_total_bytes``; the connection whose packet has waited longest goes
  (a good peer's attachments follow its header within milliseconds);
- ``attachment_timeout``: a packet still incomplete after ``timeout_s``.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import dataclass
from enum import Enum

from uplink_frame.batch import MAX_BATCH
from uplink_frame.format import MAX_MESSAGE_BYTES

_HEADER = re.compile(r"[56](\d{1,10})-")  # BINARY_EVENT / BINARY_ACK, as packet.py parses it
_FRAMING_BYTES = 4096


class Refusal(Enum):
    COUNT = "attachment_count"
    BYTES = "attachment_bytes"
    TOTAL = "attachment_total"
    TIMEOUT = "attachment_timeout"

    @property
    def counter(self) -> str:
        return f"refused_{self.value}"


@dataclass(frozen=True)
class AttachmentLimits:
    max_count: int = MAX_BATCH  # a batch of frames is one attachment per frame
    max_bytes: int = 2 * MAX_MESSAGE_BYTES + _FRAMING_BYTES  # engine.io's own message cap
    max_total_bytes: int = 8 << 20
    timeout_s: float = 10.0


def announced(message: str | bytes) -> int:
    """How many attachments a text message announces (0 for anything else)."""
    if not isinstance(message, str):
        return 0
    match = _HEADER.match(message)
    return int(match.group(1)) if match else 0


class PendingAttachments:
    """Per connection key: bytes received and when its binary packet began."""

    def __init__(self, limits: AttachmentLimits) -> None:
        self.limits = limits
        self._open: dict[Hashable, tuple[int, float]] = {}
        self.total = 0

    def header(self, message: str | bytes) -> Refusal | None:
        """A text message: refuse a header that announces too many attachments."""
        return Refusal.COUNT if announced(message) > self.limits.max_count else None

    def started(self, key: Hashable, now: float) -> None:
        """The parser now holds an incomplete binary packet for ``key``."""
        self._open.setdefault(key, (0, now))

    def attachment(self, key: Hashable, size: int) -> list[tuple[Hashable, Refusal]]:
        """An attachment for ``key``'s packet: the connections to close, and why."""
        if key not in self._open:
            return []  # not in a binary packet: the parser refuses it as malformed
        got, since = self._open[key]
        if got + size > self.limits.max_bytes:
            return [(key, Refusal.BYTES)]
        self._open[key] = (got + size, since)
        self.total += size
        return [(k, Refusal.TOTAL) for k in self._over_total()]

    def _over_total(self) -> list[Hashable]:
        victims: list[Hashable] = []
        excess = self.total - self.limits.max_total_bytes
        for key, (got, _) in sorted(self._open.items(), key=lambda item: item[1][1]):
            if excess <= 0:
                break
            victims.append(key)
            excess -= got
        return victims

    def expired(self, now: float) -> list[tuple[Hashable, Refusal]]:
        deadline = now - self.limits.timeout_s
        return [(k, Refusal.TIMEOUT) for k, (_, since) in self._open.items() if since <= deadline]

    def finished(self, key: Hashable) -> None:
        """The packet completed, was dropped, or its connection closed."""
        got, _ = self._open.pop(key, (0, 0.0))
        self.total -= got

    def __len__(self) -> int:
        return len(self._open)
