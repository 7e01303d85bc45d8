"""Count every occurrence of a kind of bad input, log only the 1st, 101st, 201st ...

A flood of one error must never become a flood of log lines: each kind gets
at most one line per ``every`` occurrences, and the line carries the count.
Shared by the receiver and the senders; no I/O beyond the logger.
"""

from __future__ import annotations

import logging
from collections import Counter

LOG_EVERY = 100


class RateLog:
    def __init__(self, logger: logging.Logger, every: int = LOG_EVERY, max_kinds: int = 64) -> None:
        self.logger = logger
        self.every = every
        self.max_kinds = max_kinds  # kinds come from input: their number is bounded too
        self.seen: Counter[str] = Counter()

    def hit(self, kind: str, msg: str, *args: object) -> int:
        """Count one ``kind``; log ``msg % args`` (with the count) when it is due."""
        if kind not in self.seen and len(self.seen) >= self.max_kinds:
            kind = "other"
        self.seen[kind] += 1
        n = self.seen[kind]
        if n % self.every == 1 or self.every == 1:
            self.logger.warning("%s (#%d)", msg % args, n)
        return n
