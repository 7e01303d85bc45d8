"""Engine.IO sessions: how many, from whom, and how long before they must authenticate.

Engine.IO opens a session (a file descriptor, ~30 KB) for any websocket that
asks, before Socket.IO auth, and keeps it while it answers pings. Policy only,
no I/O (receiver/hardened.py acts on it):

- ``sessions_total``: more than ``max_sessions`` open sessions, refused;
  never more than the fd limit allows (RLIMIT_NOFILE less a reserve for
  files, ZeroMQ and the listening socket);
- ``sessions_peer``: more than ``max_sessions_per_peer`` from one address;
- ``sessions_rate``: one address opening sessions faster than
  ``session_rate`` a second (a burst of ``max_sessions_per_peer`` allowed):
  a peer cut off for what it sent cannot come straight back for more;
- ``auth_timeout``: a session that has not completed the Socket.IO connect
  (with its token, when one is required) within ``auth_timeout_s`` is closed.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass, field
from enum import Enum

ACCEPT_BACKLOG = 32  # asyncio accepts up to the backlog per wakeup, an fd each, before any closes
FD_RESERVE = ACCEPT_BACKLOG + 64  # that burst, WAV files, stats.json, ZeroMQ, the listener
HANDSHAKE_ROOM = 32  # TCP connections beyond the sessions: handshakes, refusals on their way out


class SessionRefusal(Enum):
    TOTAL = "sessions_total"
    PEER = "sessions_peer"
    RATE = "sessions_rate"
    AUTH_TIMEOUT = "auth_timeout"

    @property
    def counter(self) -> str:
        return f"refused_{self.value}"


def fd_bound(wanted: int) -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - FD_RESERVE))


@dataclass
class _Session:
    peer: str
    opened: float
    authed: bool = False


@dataclass
class Sessions:
    max_total: int
    max_per_peer: int
    auth_timeout_s: float
    rate: float = 20.0
    _open: dict[str, _Session] = field(default_factory=dict)
    _per_peer: dict[str, int] = field(default_factory=dict)
    _tokens: dict[str, tuple[float, float]] = field(default_factory=dict)  # peer -> (tokens, at)

    def admit(self, sid: str, peer: str, now: float) -> SessionRefusal | None:
        if len(self._open) >= self.max_total:
            return SessionRefusal.TOTAL
        if self._per_peer.get(peer, 0) >= self.max_per_peer:
            return SessionRefusal.PEER
        if not self._take_token(peer, now):
            return SessionRefusal.RATE
        self._open[sid] = _Session(peer, now)
        self._per_peer[peer] = self._per_peer.get(peer, 0) + 1
        return None

    def _take_token(self, peer: str, now: float) -> bool:
        tokens, at = self._tokens.get(peer, (float(self.max_per_peer), now))
        tokens = min(float(self.max_per_peer), tokens + (now - at) * self.rate)
        if len(self._tokens) >= 4 * self.max_total:  # bounded: forget peers back at full
            self._tokens = {p: v for p, v in self._tokens.items() if p in self._per_peer}
        self._tokens[peer] = (tokens - 1, now) if tokens >= 1 else (tokens, now)
        return tokens >= 1

    def authed(self, sid: str) -> None:
        if sid in self._open:
            self._open[sid].authed = True

    def overdue(self, now: float) -> list[str]:
        """Sessions past their auth deadline (each reported until it is closed)."""
        deadline = now - self.auth_timeout_s
        return [s for s, v in self._open.items() if not v.authed and v.opened <= deadline]

    def closed(self, sid: str) -> None:
        session = self._open.pop(sid, None)
        if session is None:
            return
        left = self._per_peer[session.peer] - 1
        if left:
            self._per_peer[session.peer] = left
        else:
            del self._per_peer[session.peer]

    def __len__(self) -> int:
        return len(self._open)
