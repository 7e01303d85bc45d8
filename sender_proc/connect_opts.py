"""How a sender connects: the auth payload and the TLS context, built once at start.

link.py gives both to every Socket.IO client it makes (sio_client.py);
nothing here is logged except the TLS mode.
"""

from __future__ import annotations

import logging
import os
import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from uplink_runtime.auth import connect_auth, load_token

logger = logging.getLogger(__name__)
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class ConnectOpts:
    token: str | None = field(default=None, repr=False)  # repr=False: never in a log line
    ssl_context: ssl.SSLContext | None = None

    def auth(self) -> dict[str, Any] | None:
        """The CONNECT packet's ``auth`` payload, if there is a token."""
        return connect_auth(self.token)


def tls_context(url: str, ca_file: str | None, insecure: bool) -> ssl.SSLContext | None:
    """Verification on by default (system CAs, or ``ca_file``); off only when asked."""
    if not url.startswith("https://"):
        return None
    context = ssl.create_default_context(cafile=ca_file)
    if insecure:
        logger.warning(
            "sender %d: TLS VERIFICATION IS OFF (tls_insecure): %s is not authenticated, "
            "anyone on the path can read and alter the audio",
            os.getpid(),
            url,
        )
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def build(url: str, token_file: str | None, ca_file: str | None, insecure: bool) -> ConnectOpts:
    token = load_token(token_file)
    host = urlparse(url).hostname or ""
    if token and url.startswith("http://") and host not in _LOOPBACK:
        logger.warning(
            "sender %d: the auth token goes to %s in clear text: use https://", os.getpid(), host
        )
    return ConnectOpts(token, tls_context(url, ca_file, insecure))
