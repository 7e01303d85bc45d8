"""Why a connect failed, in one line a person can act on.

A connect fails with the OS's error (refused, DNS, TLS), a timeout, a
websockets error for an HTTP answer that is no upgrade, or the server's own
CONNECT_ERROR (sio_client.Refused); a library may hide the cause on the
exception chain. This module turns each into a :class:`LinkError`; it does
no I/O.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

_REASON_MAX = 200  # a hostile server's reason reaches logs, status and metrics labels


class Failure(StrEnum):
    REFUSED = "refused"  # the server answered and said no (CONNECT_ERROR)
    TLS = "tls"
    DNS = "dns"
    CONNECTION_REFUSED = "connection refused"  # nothing listens there
    TIMEOUT = "timeout"
    OTHER = "error"


@dataclass(frozen=True)
class LinkError:
    kind: Failure
    url: str
    detail: str

    def describe(self) -> str:
        if self.kind is Failure.REFUSED:
            return f"server {self.url} refused the connection: {self.detail}"
        return f"server {self.url} unreachable: {self.detail}"

    def to_info(self) -> dict[str, str]:
        """For the heartbeat: the supervisor decides on ``kind`` and shows ``text``."""
        return {"kind": self.kind.value, "text": self.describe()}


def server_reason(data: Any) -> str | None:
    """The reason in a CONNECT_ERROR: ``{"message": ...}`` from Node and python-socketio.

    Transport failures trigger ``connect_error`` too, with a bare string: not a refusal.
    """
    if not isinstance(data, dict) or not isinstance(data.get("message"), str):
        return None
    return clean(data["message"]) or "(no reason given)"


def clean(text: str) -> str:
    printable = "".join(c if c.isprintable() else "?" for c in text)
    return printable[:_REASON_MAX]


def classify(url: str, exc: BaseException, refusal: str | None) -> LinkError:
    """A failed connect: the server's refusal if it gave one, else the deepest known cause."""
    if refusal is not None:
        return LinkError(Failure.REFUSED, url, refusal)
    for cause in _chain(exc):
        kind = _kind(cause)
        if kind is not None:
            return LinkError(kind, url, _DETAIL.get(kind) or _tls_detail(exc))
    return LinkError(Failure.OTHER, url, clean(str(exc)) or type(exc).__name__)


_DETAIL = {
    Failure.DNS: "DNS lookup failed",
    Failure.CONNECTION_REFUSED: "connection refused",
    Failure.TIMEOUT: "timed out",
}


def _tls_detail(exc: BaseException) -> str:
    """OpenSSL's own words (``certificate has expired``, ...) when it gave any."""
    for cause in _chain(exc):
        why = getattr(cause, "verify_message", None)  # ssl.SSLCertVerificationError's
        if isinstance(why, str) and why:
            return f"TLS verification failed ({clean(why)})"
    return "TLS handshake failed"


def _kind(exc: BaseException) -> Failure | None:
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return Failure.TLS
    if isinstance(exc, socket.gaierror):
        return Failure.DNS
    if isinstance(exc, ConnectionRefusedError):
        return Failure.CONNECTION_REFUSED
    if isinstance(exc, TimeoutError):
        return Failure.TIMEOUT
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what it was raised from or during, and the errors it wraps."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [current.__cause__, current.__context__]
        todo += [getattr(current, name, None) for name in ("os_error", "certificate_error")]
