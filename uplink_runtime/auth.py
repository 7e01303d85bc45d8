"""The shared secret a sender presents to the server, and how it is read.

A token comes from a file or from the environment, never from a flag, so it
never shows in ``ps``; it is never logged, printed or written to a child's
config (children get the file's path, or inherit the variable). Imported by
children: standard library only.
"""

from __future__ import annotations

import hmac
import logging
import os
import stat

from uplink_runtime.errors import ConfigError
from uplink_runtime.safefile import open_regular

logger = logging.getLogger(__name__)
TOKEN_ENV = "AUDIO_UPLINK_TOKEN"
MAX_TOKEN_BYTES = 4096


def load_token(path: str | None) -> str | None:
    """The token from ``path`` if given, else from $AUDIO_UPLINK_TOKEN, else None."""
    if path is None:
        token = os.environ.get(TOKEN_ENV, "").strip()
        return token or None
    try:
        with open_regular(path) as f:  # a FIFO would block the open forever
            info = os.fstat(f.fileno())
            raw = f.read(MAX_TOKEN_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"auth_token_file = {path!r}: cannot read it ({exc.strerror})") from None
    token = raw.decode("utf-8", "replace").strip()
    if not token or len(raw) > MAX_TOKEN_BYTES or any(c.isspace() for c in token):
        raise ConfigError(
            f"auth_token_file = {path!r}: expected one token of 1-{MAX_TOKEN_BYTES} "
            "non-blank characters"
        )
    if stat.S_IMODE(info.st_mode) & 0o077:
        logger.warning(
            "auth token file %s is readable by other users (mode %o): chmod 600 it",
            path,
            stat.S_IMODE(info.st_mode),
        )
    return token


def connect_auth(token: str | None) -> dict[str, str] | None:
    """The Socket.IO connect ``auth`` payload."""
    return {"token": token} if token else None


def token_matches(expected: str, auth: object) -> bool:
    """Server side: constant-time comparison of what a client sent in ``auth``."""
    if not isinstance(auth, dict) or not isinstance(auth.get("token"), str):
        return False
    return hmac.compare_digest(expected.encode(), auth["token"].encode())
