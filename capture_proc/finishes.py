"""Capture's end of the back-channel: senders' reports in, leases kept (docs/delivery.md)."""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import zmq

from capture_proc.retention import Retention
from uplink_frame.counters import CaptureCounter
from uplink_frame.finish import BEAT_S, LEASE_S, MAX_BYTES, FinishError, Report, decode
from uplink_runtime import curve

logger = logging.getLogger(__name__)
_READ_MOST = 256  # reports handled per call: the capture loop never waits on its input
_LOG_EVERY_S = 10.0
_MAX_SENDERS = 256  # leases kept at most: the supervisor runs up to 32 senders


class Finishes:
    """Owns the ROUTER socket senders report to; gives back what a gone sender held."""

    def __init__(
        self, ctx: zmq.Context[Any], endpoint: str, curve_dir: str | None, retention: Retention
    ) -> None:
        self.retention = retention
        self.sock = ctx.socket(zmq.ROUTER)
        self.sock.linger = 0
        self.sock.maxmsgsize = MAX_BYTES
        if curve_dir:
            curve.serve_also(self.sock, curve_dir)
        self.sock.bind(endpoint)
        self.heard: dict[bytes, float] = {}  # sender -> monotonic time of its last report
        self.silent: dict[bytes, float] = {}  # senders past their lease -> since when
        self.counters: dict[str, int] = dict.fromkeys(
            (CaptureCounter.BAD_FINISH, CaptureCounter.SENDERS_GONE), 0
        )
        self._logged_at = 0.0
        self._swept_at = 0.0
        self.read_at = -math.inf  # monotonic time of the last read

    def read(self, now: float) -> None:
        self.read_at = now
        for _ in range(_READ_MOST):
            if not self.sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:  # cheaper than zmq.Again
                break
            self._handle(self.sock.recv_multipart(zmq.NOBLOCK), now)
        self._check_leases(now)

    def _handle(self, parts: list[bytes], now: float) -> None:
        try:
            if len(parts) != 2:
                raise FinishError(f"{len(parts)} message parts, expected 2")
            report = decode(parts[1])
        except FinishError as exc:
            self._bad(exc)
            return
        owner = parts[0]
        if owner not in self.heard and len(self.heard) >= _MAX_SENDERS:
            self._bad(FinishError(f"more than {_MAX_SENDERS} senders report"))
            return
        self.silent.pop(owner, None)  # only slow: its frames may arrive twice, never lost
        self._apply(owner, report)
        if report.bye:
            self.heard.pop(owner, None)
            self._give_back(owner, "left")
        else:
            self.heard[owner] = now

    def _apply(self, owner: bytes, report: Report) -> None:
        for fate, lo, hi in report.fin:
            self.retention.finished(fate, lo, hi)
        for lo, hi in report.took:
            self.retention.took(owner, lo, hi)

    def _check_leases(self, now: float) -> None:
        for owner in [o for o, t in self.heard.items() if now - t > LEASE_S]:
            del self.heard[owner]
            self.silent[owner] = now
            # it is silent since before now - LEASE_S: what was pushed since went to
            # live senders, who report taking it within a beat (the sweep below
            # catches the rest if it was hung, not dead, and its pipe took more)
            self._give_back(owner, "went silent", older_than=now - 2 * BEAT_S)
        # a silent sender that is hung, not dead, still holds a ZeroMQ pipe that
        # fills to its high-water mark: what no one takes from there goes again
        horizon = now - self.retention.budget_s
        self.silent = {o: t for o, t in self.silent.items() if t > horizon}
        if self.silent and now - self._swept_at >= BEAT_S:
            self._swept_at = now
            self.retention.gone(b"", older_than=now - LEASE_S)

    def _give_back(self, owner: bytes, why: str, older_than: float = math.inf) -> None:
        self.counters[CaptureCounter.SENDERS_GONE] += 1
        n = self.retention.gone(owner, older_than)
        name = owner.decode(errors="replace")
        logger.info("capture: sender %s %s, %d frames to push again", name, why, n)

    def _bad(self, exc: FinishError) -> None:
        self.counters[CaptureCounter.BAD_FINISH] += 1
        now = time.monotonic()
        if now - self._logged_at >= _LOG_EVERY_S:
            self._logged_at = now
            logger.warning("capture: bad back-channel message (%s)", exc)

    def close(self) -> None:
        self.sock.close()
