"""Fixtures for queue tests: a real SQLite file and a fast-ticking queue."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from stash_sense.config import QueueConfig
from stash_sense.config.model import ConcurrencyConfig
from stash_sense.queue import JobQueue, JobRegistry, JobStore
from stash_sense.store import Database


def fast_config(**overrides: object) -> QueueConfig:
    """Return a queue config with tiny delays so tests run quickly."""
    base = QueueConfig(
        max_attempts=3,
        retry_base_seconds=0.05,
        retry_max_seconds=0.2,
        shutdown_grace_seconds=2.0,
        poll_interval_seconds=0.05,
        concurrency=ConcurrencyConfig(gpu=1, cpu=1, io=2),
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "stash_sense.db")
    await database.open()
    yield database
    await database.close()


@pytest.fixture
def store(db: Database) -> JobStore:
    return JobStore(db)


@pytest.fixture
def registry() -> JobRegistry:
    return JobRegistry()


@pytest.fixture
async def queue(store: JobStore, registry: JobRegistry) -> AsyncIterator[JobQueue]:
    q = JobQueue(store, registry, fast_config(), rng=random.Random(7))
    yield q
    await q.stop(grace_seconds=0.5)
