"""What a pipelined engine reports about its stages, read at every scrape.

Imports nothing from the rest of the daemon: an engine registers a reader here
without depending on how metrics are rendered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageSample:
    """One stage's totals since start, and the items waiting for it now."""

    stage: str
    busy_seconds: float
    items: int
    batches: int
    queued: int


StageReader = Callable[[], Sequence[StageSample]]


class StageReaders:
    """The readers registered by running engines; samples of the same stage add up."""

    def __init__(self) -> None:
        self._readers: list[StageReader] = []
        self._failing: set[int] = set()  # readers whose failure is logged already

    def add(self, reader: StageReader) -> None:
        """Register a reader (an engine, when it starts)."""
        self._readers.append(reader)

    def remove(self, reader: StageReader) -> None:
        """Unregister a reader (an engine, when it stops); unknown readers are ignored."""
        if reader in self._readers:
            self._readers.remove(reader)

    def samples(self) -> list[StageSample]:
        """Read every reader; one that fails is logged and left out of this scrape."""
        merged: dict[str, StageSample] = {}
        for reader in list(self._readers):
            try:
                samples = list(reader())
            except Exception as err:
                # Once per episode: a scraper asks every few seconds.
                if id(reader) not in self._failing:
                    self._failing.add(id(reader))
                    _LOGGER.warning("Stage metrics reader %r failed: %s", reader, err)
                continue
            self._failing.discard(id(reader))
            for s in samples:
                seen = merged.get(s.stage)
                merged[s.stage] = s if seen is None else _add(seen, s)
        return [merged[name] for name in sorted(merged)]


def _add(a: StageSample, b: StageSample) -> StageSample:
    """Sum two samples of one stage."""
    return StageSample(
        a.stage,
        a.busy_seconds + b.busy_seconds,
        a.items + b.items,
        a.batches + b.batches,
        a.queued + b.queued,
    )
