"""A fake Stash wired to fake stash-boxes, a store and the analyzer runner, in one process."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from stash_sense.analyzers.base import Analyzer, AnalyzerServices
from stash_sense.analyzers.registry import AnalyzerRegistry
from stash_sense.analyzers.runner import AnalyzerRunner, RunResult
from stash_sense.analyzers.state import AnalyzerStateStore
from stash_sense.config import Config
from stash_sense.config.model import AnalyzersConfig, EventsConfig, StashBoxConfig, StashConfig
from stash_sense.review import ItemFilter, ReviewItem, ReviewQueue, ReviewState
from stash_sense.stash import StashClient
from stash_sense.store import Database
from stash_sense.writes import AuditLog
from tests.fakes.stash import FakeStash
from tests.fakes.stash.library import StashBoxConfig as BoxEntry
from tests.fakes.stashbox import FakeStashBox


@dataclass
class World:
    """Everything a test drives: fakes, store, queue and the runner."""

    stash: FakeStash
    boxes: list[FakeStashBox]
    db: Database
    reviews: ReviewQueue
    runner: AnalyzerRunner
    audit: AuditLog
    clock: list[datetime] = field(default_factory=list)

    def tick(self, seconds: float = 10.0) -> None:
        """Move the fake Stash's clock forward (its timestamps have seconds precision)."""
        self.clock[0] += timedelta(seconds=seconds)

    @property
    def box(self) -> FakeStashBox:
        """Return the first stash-box."""
        return self.boxes[0]

    async def run(self, name: str, *, full: bool = False) -> RunResult:
        """Run an analyzer the way its job does."""
        return await self.runner.run(name, full=full)

    async def items(self, kind: str, *states: ReviewState) -> list[ReviewItem]:
        """List a kind's items (optionally in given states), oldest first."""
        page = await self.reviews.list(ItemFilter(kinds=(kind,), states=states), limit=1000)
        return sorted(page.items, key=lambda i: i.id)


def make_config(stash_url: str, **analyzers: Any) -> Config:
    """Return a config for the fake Stash with `[analyzers]` and `[stashbox]` overrides."""
    box_keys = {f.name for f in dataclasses.fields(StashBoxConfig)}
    box_over = {k: v for k, v in analyzers.items() if k in box_keys}
    ana_over = {k: v for k, v in analyzers.items() if k not in box_keys}
    return Config(
        stash=StashConfig(url=stash_url, requests_per_second=1000),
        stashbox=dataclasses.replace(StashBoxConfig(), requests_per_minute=60_000, **box_over),
        # Tests move the clock explicitly: no overlap needed for incremental queries.
        events=dataclasses.replace(EventsConfig(), updated_margin_seconds=0),
        analyzers=dataclasses.replace(AnalyzersConfig(), **ana_over),
    )


@asynccontextmanager
async def world(
    tmp_path: Path,
    analyzers: list[type[Analyzer]],
    *,
    boxes: int = 1,
    disabled_boxes: Sequence[int] = (),
    **config: Any,
) -> AsyncIterator[World]:
    """Start a fake Stash with `boxes` fake stash-boxes configured, and the store.

    `disabled_boxes` (indexes) are added to `[stashbox] disabled_endpoints` by URL.
    """
    clock = [datetime(2026, 1, 1, 12, 0, tzinfo=UTC)]
    async with FakeStash(clock=lambda: clock[0]) as stash:
        fakes = [await FakeStashBox().start() for _ in range(boxes)]
        try:
            for index, fake in enumerate(fakes):
                stash.library.stash_boxes.append(
                    BoxEntry(
                        fake.graphql_url,
                        fake.api_key,
                        name=f"Box{index}",
                        # 0: no limit of its own, so the test config's high cap applies.
                        max_requests_per_minute=0,
                    )
                )
            db = Database(tmp_path / "sense.db")
            await db.open()
            if disabled_boxes:
                config["disabled_endpoints"] = [
                    *config.get("disabled_endpoints", []),
                    *(fakes[i].graphql_url for i in disabled_boxes),
                ]
            cfg = make_config(stash.url, **config)
            async with StashClient(cfg.stash) as client:
                reviews = ReviewQueue(db)
                audit = AuditLog(db)
                services = AnalyzerServices(
                    stash=client, config=cfg, db=db, reviews=reviews, audit=audit
                )
                registry = AnalyzerRegistry.build(services, analyzers)
                for kind in registry.review_kinds():
                    reviews.register(kind)
                await reviews.start()
                runner = AnalyzerRunner(registry, AnalyzerStateStore(db), reviews, client, cfg)
                try:
                    yield World(stash, fakes, db, reviews, runner, audit, clock)
                finally:
                    await reviews.close(grace_seconds=1.0)
                    await db.close()
        finally:
            for fake in fakes:
                await fake.stop()
