"""What the senders say about their server, and what that means for the run.

Two verdicts, both pure: a server that refuses the very first connection
of a run ends it (a wrong token does not get better by retrying), and a
run in which capture made frames but none reached the server fails,
naming the last reason a sender gave.
"""

from __future__ import annotations

from typing import Any

from sender_proc.linkerror import Failure

EXIT_UNDELIVERED = 3  # the run worked as configured, but no audio got through


class LinkWatch:
    """The last connect error of each sender slot, and whether any link was ever up."""

    def __init__(self) -> None:
        self.ever_connected = False
        self.errors: dict[str, dict[str, str]] = {}

    def observe(self, name: str, info: dict[str, Any]) -> str | None:
        """Take one sender heartbeat's info; the line to stop on if the run is refused at start."""
        if info.get("connected") or _positive(info.get("reconnects")):
            self.ever_connected = True
        error = info.get("link_error")
        if error is None:
            self.errors.pop(name, None)
        elif _well_formed(error):
            self.errors[name] = {"kind": error["kind"], "text": error["text"]}
        if self.ever_connected or error is None or not _well_formed(error):
            return None
        return str(error["text"]) if error["kind"] == Failure.REFUSED.value else None

    def undelivered(self, frames: dict[str, Any]) -> str | None:
        """The line a run that delivered nothing ends with, or None if something got through."""
        captured = frames.get("captured", 0)
        if not captured or frames.get("acked", 0) + frames.get("written", 0):
            return None
        if self.errors:
            why = next(iter(self.errors.values()))["text"]
        elif self.ever_connected:
            why = "the server accepted the connection but acked no frame"
        else:
            why = "no sender connected to the server"
        return f"nothing delivered ({captured} frames captured, none acked): {why}"


def _well_formed(error: object) -> bool:
    return (
        isinstance(error, dict)
        and error.get("kind") in {f.value for f in Failure}
        and isinstance(error.get("text"), str)
    )


def _positive(value: object) -> bool:
    return isinstance(value, int) and value > 0
