"""Count what each stage of the engine does: busy time, items, batches.

Items are frames for decode and detect, faces for embed, scenes for search and match.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from stash_sense.metrics.stages import StageSample


class StageMeter:
    """Accumulate one stage's busy seconds, items and batches (thread-safe)."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self._lock = threading.Lock()
        self._busy = 0.0
        self._items = 0
        self._batches = 0

    def add(self, seconds: float, items: int, batches: int = 1) -> None:
        """Record work done elsewhere (e.g. in a decoding process)."""
        with self._lock:
            self._busy += seconds
            self._items += items
            self._batches += batches

    @contextmanager
    def measure(self, items: int) -> Iterator[None]:
        """Time one batch of `items`."""
        began = time.perf_counter()
        try:
            yield
        finally:
            self.add(time.perf_counter() - began, items)

    def sample(self, queued: int) -> StageSample:
        """Return the totals so far."""
        with self._lock:
            return StageSample(self.stage, self._busy, self._items, self._batches, queued)
