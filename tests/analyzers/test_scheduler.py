"""The analyzer scheduler: late fires within the grace still run, catch-up after downtime."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from stash_sense.analyzers.registry import AnalyzerRegistry
from stash_sense.analyzers.schedule import parse_schedule
from stash_sense.analyzers.scheduler import AnalyzerScheduler, _first_fire
from stash_sense.analyzers.state import AnalyzerStateStore
from stash_sense.config import Config
from stash_sense.config.model import AnalyzersConfig
from stash_sense.queue import JobStore, Resource
from stash_sense.queue.store import NewJob
from stash_sense.stash import StashClient
from stash_sense.store import Database
from tests.analyzers.fakes import QuickAnalyzer
from tests.helpers import eventually


@pytest.fixture
async def states(tmp_path: Path) -> AsyncIterator[AnalyzerStateStore]:
    db = Database(tmp_path / "db.sqlite")
    await db.open()
    yield AnalyzerStateStore(db)
    await db.close()


async def _fires_after_a_busy_loop(states: AnalyzerStateStore, grace: int) -> list[float]:
    """Fire every 2 s, block the loop until the first fire is 1.3 s late, return fires after."""
    fired: list[float] = []

    async def fire(name: str) -> None:
        fired.append(time.monotonic())

    registry = AnalyzerRegistry([QuickAnalyzer(StashClient(Config().stash), Config())])
    config = AnalyzersConfig(
        schedules=["quick=interval:2s"], misfire_grace_seconds=grace, start_delay_seconds=0
    )
    # Counting from a recent last run: the first fire is one interval away.
    await states.started("quick", None)
    scheduler = AnalyzerScheduler(registry, states, config, fire)
    await scheduler.start()
    try:
        started = time.monotonic()
        await asyncio.sleep(0.2)
        # A busy daemon: the scheduler's timer cannot run on time.
        time.sleep(  # noqa: ASYNC251
            3.3 - (time.monotonic() - started)
        )
        unblocked = time.monotonic()
        await asyncio.sleep(0.4)  # the next regular fire is at 4 s
    finally:
        scheduler.shutdown()
    return [t - unblocked for t in fired if t >= unblocked]


async def test_a_late_fire_within_the_grace_still_runs_once(
    states: AnalyzerStateStore,
) -> None:
    late = await _fires_after_a_busy_loop(states, grace=60)
    assert len(late) == 1 and late[0] < 0.2


async def test_apschedulers_one_second_default_would_have_dropped_it(
    states: AnalyzerStateStore,
) -> None:
    assert await _fires_after_a_busy_loop(states, grace=1) == []


def test_first_fire_counts_from_the_last_run() -> None:
    now = datetime.now().astimezone()
    hourly = parse_schedule("interval:1h")
    assert _first_fire(hourly, None, now) == now  # never ran
    two_hours_ago = (now - timedelta(hours=2)).timestamp()
    assert _first_fire(hourly, two_hours_ago, now) == now  # missed while down
    ten_minutes_ago = now - timedelta(minutes=10)
    due = _first_fire(hourly, ten_minutes_ago.timestamp(), now)
    assert due is not None and abs((due - ten_minutes_ago).total_seconds() - 3600) < 1
    nightly = parse_schedule("cron:0 3 * * *")
    assert _first_fire(nightly, (now - timedelta(days=2)).timestamp(), now) == now
    assert _first_fire(nightly, now.timestamp(), now) is None  # the trigger decides


async def test_a_fire_the_store_refused_is_queued_once_it_recovers(tmp_path: Path) -> None:
    db = Database(tmp_path / "db.sqlite")
    await db.open()
    jobs = JobStore(db)

    async def fire(name: str) -> None:
        await jobs.enqueue_many(
            [NewJob("analyzer.run", {"name": name}, Resource.IO, 0, 3, f"analyzer:{name}")]
        )

    registry = AnalyzerRegistry([QuickAnalyzer(StashClient(Config().stash), Config())])
    config = AnalyzersConfig(schedules=["quick=interval:1h"], start_delay_seconds=0)
    scheduler = AnalyzerScheduler(registry, AnalyzerStateStore(db), config, fire)
    scheduler.retry_first_seconds = 0.1
    # A real SQLite refusal: the writer connection may only read.
    async with db.transaction() as conn:
        await conn.execute("PRAGMA query_only = ON")
    try:
        await scheduler.start()  # never ran: due at once, and the store refuses the job

        async def refused() -> bool:
            return db.health.problem == "read_only"

        await eventually(refused)
        await asyncio.sleep(0.5)
        assert (await jobs.list()).total == 0
        # A read-only writer cannot even begin a transaction: switch it back directly.
        writer = db._writer
        assert writer is not None
        await writer.execute("PRAGMA query_only = OFF")

        async def queued() -> bool:
            return (await jobs.list()).total == 1

        # Not at the next interval (an hour away): as soon as the store takes it.
        await eventually(queued, timeout=5)
        assert db.health.ok
    finally:
        scheduler.shutdown()
        await db.close()
