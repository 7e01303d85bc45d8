"""A mergeable latency histogram with 1 % relative precision and bounded size.

Bucket ``b`` holds (0.01 ms * 1.02**(b-1), 0.01 ms * 1.02**b]; a percentile is
reported as its bucket's midpoint, within 1 % of the exact value (the upper
edge would be up to 2 % high).

Children ship it in every heartbeat; the supervisor sums the buckets of all
processes and restarts, so percentiles survive a child being replaced.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

_BASE_MS = 0.01
_RATIO = 1.02
MAX_BUCKET = 1000  # 0.01 ms * 1.02**1000 ~ 4 000 s: everything fits


def bucket(ms: float) -> int:
    if ms <= _BASE_MS:
        return 0
    return min(MAX_BUCKET, math.ceil(math.log(ms / _BASE_MS) / math.log(_RATIO)))


def bucket_ms(index: int) -> float:
    """Upper edge of a bucket, in milliseconds."""
    return _BASE_MS * _RATIO ** min(index, MAX_BUCKET)


def bucket_mid_ms(index: int) -> float:
    """Midpoint of a bucket, in milliseconds: at most 1 % from any value in it."""
    lower = bucket_ms(index - 1) if index > 0 else 0.0
    return (lower + bucket_ms(index)) / 2


class Histogram:
    def __init__(self, counts: Mapping[int, int] | None = None) -> None:
        self.counts: dict[int, int] = dict(counts or {})

    def add(self, ms: float) -> None:
        b = bucket(ms)
        self.counts[b] = self.counts.get(b, 0) + 1

    def merge(self, other: Mapping[int, int]) -> None:
        for b, n in other.items():
            self.counts[b] = self.counts.get(b, 0) + n

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def percentile(self, p: float) -> float | None:
        total = self.total
        if not total:
            return None
        rank = max(1, math.ceil(total * p / 100))
        seen = 0
        for b in sorted(self.counts):
            seen += self.counts[b]
            if seen >= rank:
                return round(bucket_mid_ms(b), 3)
        raise AssertionError("unreachable: rank <= total")

    def summary(self, percentiles: Iterable[float] = (50, 95, 99)) -> dict[str, float | None]:
        out: dict[str, float | None] = {f"p{p:g}": self.percentile(p) for p in percentiles}
        out["max"] = self.percentile(100)
        return out
