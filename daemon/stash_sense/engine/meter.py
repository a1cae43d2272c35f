"""Count what each stage of the engine does: busy time, items, batches."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class StageSample:
    """One stage's totals since the engine started, and the work waiting for it now."""

    stage: str
    busy_seconds: float
    items: int  # frames for decode/detect, faces for embed, scenes for search/match
    batches: int  # calls (one decoded scene, one detector or embedder call, one search)
    queued: int


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
