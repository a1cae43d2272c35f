"""The analyzer base: what an analyzer declares and what it gets for one run."""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from stash_sense.config import Config
from stash_sense.identify.store import IdentificationStore
from stash_sense.review import ReviewKind, ReviewQueue
from stash_sense.stash import StashClient
from stash_sense.store import Database
from stash_sense.writes import AuditLog
from stash_sense.writes.interrupted import Check

ProgressFn = Callable[[int, "int | None", "str | None"], Awaitable[None]]
# Persists (watermark, state) of an analyzer at once.
SaveFn = Callable[[str | None, dict[str, Any]], Awaitable[None]]


async def _no_progress(done: int, total: int | None, message: str | None) -> None:
    """Drop progress (runs without a job)."""


def _never_cancelled() -> None:
    """Never raise (runs that cannot be cancelled)."""


async def _no_save(watermark: str | None, state: dict[str, Any]) -> None:
    """Persist nothing (tests, dry runs)."""


class AnalyzerRun:
    """What an analyzer gets for one run: progress, cancellation, emitting, watermark."""

    def __init__(
        self,
        *,
        name: str,
        full: bool,
        watermark: str | None,
        stash: StashClient,
        config: Config,
        reviews: ReviewQueue,
        state: dict[str, Any] | None = None,
        progress: ProgressFn = _no_progress,
        check_cancelled: Callable[[], None] = _never_cancelled,
        save: SaveFn = _no_save,
        source: str | None = None,
    ) -> None:
        self.name = name
        self.full = full
        # A full run ignores the stored watermark by contract.
        self.watermark = None if full else watermark
        self.stash = stash
        self.config = config
        self.reviews = reviews
        self.counts: Counter[str] = Counter()
        self._state: dict[str, Any] = copy.deepcopy(state) if state else {}
        self._progress = progress
        self._check_cancelled = check_cancelled
        self._save = save
        self._source = source if source is not None else f"analyzer:{name}"

    async def progress(
        self, done: int, total: int | None = None, message: str | None = None
    ) -> None:
        """Report how far the run is."""
        await self._progress(done, total, message)

    def check_cancelled(self) -> None:
        """Raise `JobCancelled` if the run was asked to stop; call between batches."""
        self._check_cancelled()

    async def emit(
        self,
        kind: str,
        *,
        scene_id: int | None,
        subject: str,
        payload: Any,
        confidence: float | None = None,
    ) -> None:
        """Propose a review item (an upsert: running twice adds no duplicate) and count it."""
        result = await self.reviews.upsert(
            kind,
            scene_id=scene_id,
            subject=subject,
            payload=payload,
            confidence=confidence,
            source=self._source,
        )
        self.counts[_COUNT_NAMES.get(result.outcome.value, result.outcome.value)] += 1

    async def supersede(
        self, kind: str, scene_id: int | None, keep_subjects: Collection[str]
    ) -> None:
        """Retire pending items of a kind and scene that this run no longer found."""
        self.counts["superseded"] += await self.reviews.supersede(kind, scene_id, keep_subjects)

    async def set_watermark(self, value: str) -> None:
        """Persist the watermark (and the state) now; call after a committed batch."""
        self.watermark = value
        await self._save(value, self._state)

    def state(self) -> dict[str, Any]:
        """Return the analyzer's private JSON state, persisted with the watermark."""
        return self._state


# Upsert outcomes under the names the API reports.
_COUNT_NAMES = {"created": "emitted"}


@dataclass(frozen=True)
class AnalyzerServices:
    """Everything an analyzer or its review kinds may need, for `Analyzer.create`."""

    stash: StashClient
    config: Config
    db: Database
    reviews: ReviewQueue
    audit: AuditLog
    # Face identifications (duplicate scenes compare casts); None where none are kept.
    identifications: IdentificationStore | None = None


class Analyzer(ABC):
    """A library-wide analysis that proposes review items, run as a durable job."""

    name: ClassVar[str]
    title: ClassVar[str]
    # Bump when the logic changes: the next run is full, ignoring the watermark.
    logic_version: ClassVar[int] = 1
    kinds: ClassVar[tuple[type[ReviewKind[Any]], ...]] = ()
    # "interval:<n>h|m|s" or "cron:<5-field crontab>".
    default_schedule: ClassVar[str] = "interval:168h"

    def __init__(self, stash: StashClient, config: Config, audit: AuditLog | None = None) -> None:
        self.stash = stash
        self.config = config
        self.audit = audit  # where the kinds' accepts record their writes

    @classmethod
    def create(cls, services: AnalyzerServices) -> Self:
        """Build the analyzer; override to take more than Stash, config and the audit log."""
        return cls(services.stash, services.config, services.audit)

    @abstractmethod
    async def run(self, run: AnalyzerRun) -> None:
        """Analyze the library (or what changed since the watermark) and emit items."""

    def review_kinds(self) -> list[ReviewKind[Any]]:
        """Instantiate the review kinds this analyzer emits: (stash, config, audit log)."""
        return [kind(self.stash, self.config, self.audit) for kind in self.kinds]  # type: ignore[call-arg]

    def write_checks(self) -> Mapping[str, Check]:
        """Return how to check this analyzer's interrupted writes, by audit action."""
        return {}
