"""The disk a stream, and all streams together, may fill during one receiver's life.

Charged before a write, in bytes the recordings grow by (holes included:
a copy of the file would have them). Past a bound the frame is refused,
``rejected_disk`` counts it and a warning says which bound, once per 100.
"""

from __future__ import annotations

import logging
import os

from receiver.guard import Rejected

logger = logging.getLogger(__name__)
_LOG_EVERY = 100


class DiskBudget:
    def __init__(self, per_stream: int, total: int) -> None:
        self.per_stream, self.total = per_stream, total
        self.used: dict[str, int] = {}
        self.total_used = 0
        self.refused = 0

    def charge(self, stream: str, nbytes: int) -> None:
        """Rejected("disk") if ``nbytes`` more would pass a bound; else booked."""
        used = self.used.get(stream, 0) + nbytes
        if used > self.per_stream or self.total_used + nbytes > self.total:
            self.refused += 1
            which = "max_stream_bytes" if used > self.per_stream else "max_disk_bytes"
            if self.refused % _LOG_EVERY == 1:
                logger.warning(
                    "receiver %d: stream %s reached %s: frames refused (#%d)",
                    os.getpid(),
                    stream,
                    which,
                    self.refused,
                )
            raise Rejected("disk", f"stream {stream} reached the receiver's {which}")
        self.used[stream] = used
        self.total_used += nbytes

    def forget(self, stream: str) -> None:
        """A stream with no open sink left: its share is free again (the total is not)."""
        self.used.pop(stream, None)
