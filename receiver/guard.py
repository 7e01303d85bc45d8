"""What the receiver lets in: authenticated clients and well-formed frames, counted.

Every refusal is counted by reason (``rejected_auth``, ``rejected_oversized``,
``rejected_codec``, ``rejected_malformed``) and answered; nothing a client
sends can raise out of a handler, so one hostile client cannot stop the
others. Messages beyond the transport cap (twice the frame limit) never
reach here: the websocket is closed on them (counted, with every other
dropped connection, as ``disconnects_abnormal``).
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from typing import Any

from uplink_frame import Frame, FrameError, from_dict
from uplink_frame.batch import from_batch, is_batch
from uplink_frame.counters import REJECTED
from uplink_frame.format import CODECS
from uplink_frame.ratelog import RateLog
from uplink_runtime.auth import token_matches

logger = logging.getLogger(__name__)
_OVERHEAD_BYTES = 4096  # Socket.IO framing around the audio attachment
COUNTERS = (
    "rejected_auth",
    "rejected_oversized",
    "rejected_codec",
    "rejected_malformed",
    "disconnects_abnormal",
    "rejected_event",  # receiver/events.py
)


class Rejected(Exception):
    """A payload refused by the guard; ``reason`` names the counter."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class Guard:
    def __init__(self, max_message_bytes: int, token: str | None) -> None:
        self.max_message_bytes = max_message_bytes
        self.token = token
        self.counts: Counter[str] = Counter(dict.fromkeys(COUNTERS, 0))
        self._rate = RateLog(logger)

    @property
    def transport_cap(self) -> int:
        """engine.io's own limit: a message this big closes the connection."""
        return 2 * self.max_message_bytes + _OVERHEAD_BYTES

    def admit(self, sid: str, auth: Any) -> bool:
        """Connect time: with a token configured, only clients presenting it."""
        if self.token is None or token_matches(self.token, auth):
            return True
        self._count("auth", f"client {sid} without a valid token")
        return False

    def frames(self, data: Any) -> list[Frame]:
        """One event: a frame, or a batch of frames of one stream (``batch_ms``)."""
        if not is_batch(data):
            return [self.frame(data)]
        try:
            return from_batch(data, self.max_message_bytes)
        except FrameError as exc:
            self._count("malformed", str(exc))
            raise Rejected("malformed", str(exc)) from None

    def frame(self, data: Any) -> Frame:
        """Validate one event payload; Rejected (counted) on anything but a good frame."""
        try:
            self._precheck(data)
            return from_dict(data, self.max_message_bytes)
        except Rejected as exc:
            self._count(exc.reason, str(exc))
            raise
        except FrameError as exc:
            self._count("malformed", str(exc))
            raise Rejected("malformed", str(exc)) from None

    def _precheck(self, data: Any) -> None:
        if not isinstance(data, dict):
            raise Rejected("malformed", f"frame must be a map, got {type(data).__name__}")
        audio = data.get("audio")
        if isinstance(audio, bytes | str) and len(audio) > self.max_message_bytes:
            raise Rejected(
                "oversized", f"audio of {len(audio)} bytes exceeds {self.max_message_bytes}"
            )
        codec = data.get("codec")
        if "codec" in data and (not isinstance(codec, str) or codec not in CODECS):
            shown = repr(codec)[:40]
            raise Rejected("codec", f"unknown codec {shown}; accepted: {sorted(CODECS)}")

    def refuse_event(self, detail: str) -> None:
        """An event other than the configured one (receiver/events.py)."""
        self._count("event", detail)

    def disconnected(self, reason: Any) -> None:
        if str(reason) in ("transport error", "transport close"):
            self.counts["disconnects_abnormal"] += 1

    def _count(self, reason: str, detail: str) -> None:
        self.counts[f"{REJECTED}{reason}"] += 1
        # the 1st, then at most one per 100 and per second (uplink_frame/ratelog.py)
        self._rate.hit(reason, "receiver %d: rejected (%s): %s", os.getpid(), reason, detail)
