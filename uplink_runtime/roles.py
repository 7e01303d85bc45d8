"""The three kinds of child process; a child's role travels in its config and every heartbeat."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CAPTURE = "capture"
    SENDER = "sender"
    RECEIVER = "receiver"
