"""Replacing a sender without a gap: the new one connects before the old one lets go.

The old process gets SIGUSR1 ("retire": stop pulling, send what you hold,
collect its acks, exit) once its replacement reports a live Socket.IO link,
or after a deadline if the replacement cannot connect.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import time

from supervisor.process import Child, Retiring

logger = logging.getLogger(__name__)
_CONNECT_DEADLINE_S = 5.0
_EXIT_GRACE_S = 2.0


class Recycler:
    def __init__(self, drain_s: float) -> None:
        self.drain_s = drain_s

    def retire(self, child: Child) -> None:
        """Move the running process aside; the caller spawns the replacement in the slot."""
        assert child.proc is not None
        logger.info(
            "supervisor: %s pid %d retiring, replacement starting", child.name, child.proc.pid
        )
        child.retiring.append(Retiring(child.proc, time.monotonic()))
        child.proc = None

    def tick(self, child: Child, now: float) -> None:
        for old in child.retiring:
            if old.signalled_at is None:
                ready = child.health.beat_at is not None and child.health.info.get("connected")
                if ready or now - old.since > _CONNECT_DEADLINE_S:
                    self._send(old, signal.SIGUSR1)
                    old.signalled_at = now
            elif now - old.signalled_at > self.drain_s + _EXIT_GRACE_S:
                logger.warning(
                    "supervisor: retiring %s pid %d overran its drain, SIGKILL",
                    child.name,
                    old.proc.pid,
                )
                self._send(old, signal.SIGKILL)

    @staticmethod
    def _send(old: Retiring, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            old.proc.send_signal(sig)
