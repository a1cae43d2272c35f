"""A histogram with fixed buckets, accumulated in memory."""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class HistogramSnapshot:
    """A histogram's state at one moment: cumulative counts per upper bound."""

    bounds: tuple[float, ...]  # finite upper bounds, ascending; +Inf is implied
    cumulative: tuple[int, ...]  # observations <= each bound, then the total count
    count: int
    total: float


class Histogram:
    """Count observations into fixed buckets, with their sum (not thread-safe)."""

    def __init__(self, bounds: Iterable[float]) -> None:
        self.bounds = tuple(sorted(float(b) for b in bounds))
        if not self.bounds or any(not math.isfinite(b) for b in self.bounds):
            raise ValueError("a histogram needs finite bucket bounds")
        if len(set(self.bounds)) != len(self.bounds):
            raise ValueError("histogram bucket bounds must be distinct")
        # One slot per bound plus one for values above the last (the +Inf bucket).
        self._counts = [0] * (len(self.bounds) + 1)
        self._total = 0.0

    def observe(self, value: float) -> None:
        """Add one observation."""
        # bisect_left puts a value equal to a bound into that bound's bucket (le is <=).
        self._counts[bisect.bisect_left(self.bounds, value)] += 1
        self._total += value

    def snapshot(self) -> HistogramSnapshot:
        """Return the cumulative counts, count and sum."""
        cumulative: list[int] = []
        running = 0
        for n in self._counts:
            running += n
            cumulative.append(running)
        return HistogramSnapshot(self.bounds, tuple(cumulative), running, self._total)
