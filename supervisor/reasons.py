"""Why a child is being replaced: a cause the supervisor decides on, and the line it reports.

A ``Reason`` is the text logs and reports show (``hang: no heartbeat for
2300 ms``, ``exit code 1``); its ``cause`` is what run.py decides on, so no
decision reads the text.
"""

from __future__ import annotations

from enum import StrEnum


class Cause(StrEnum):
    HANG = "hang"  # the watchdog: no heartbeat, or no progress with work to do
    MEMORY = "memory"  # the watchdog: RSS over the cap; a planned replacement
    REQUESTED = "requested"  # supervisor restart NAME
    EXIT = "exit"  # the process ended on its own (an exit code or a signal)


PLANNED = frozenset({Cause.MEMORY, Cause.REQUESTED})  # restarted at once, no backoff


class Reason(str):
    """The text, as it always was; ``cause`` says which kind it is."""

    cause: Cause

    def __new__(cls, cause: Cause, text: str) -> Reason:
        reason = super().__new__(cls, text)
        reason.cause = cause
        return reason

    @classmethod
    def said(cls, cause: Cause, detail: str) -> Reason:
        """``cause: detail``, the way the watchdog words its findings."""
        return cls(cause, f"{cause}: {detail}")

    @property
    def planned(self) -> bool:
        return self.cause in PLANNED

    @property
    def by_supervisor(self) -> bool:
        """The supervisor ended the process; its exit code says nothing about the config."""
        return self.cause is not Cause.EXIT
