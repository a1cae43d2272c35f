"""A database that refuses writes: workers survive, /health says why, the queue resumes.

The failures are real SQLite ones: `PRAGMA max_page_count` caps the database file so
that writes needing a new page fail with SQLITE_FULL ("database or disk is full"),
exactly as on a full filesystem; raising the cap again is "space was freed".
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from stash_sense.daemon import build_app
from stash_sense.engine.sizing import gpu_job_slots
from stash_sense.keys import DAEMON, QUEUE, STORE
from stash_sense.queue import JobContext, JobState, JobType, Resource
from stash_sense.store import Database
from tests.daemons import AUTH
from tests.helpers import TOKEN, daemon_config, eventually

HUGE = 20_000  # characters: a value this long needs new (overflow) pages to be stored
# cpu=1, io=2 in the test config; the gpu pool runs one identify job per scene the engine takes
WORKERS = 3 + gpu_job_slots(daemon_config(Path("data")))


@dataclass(frozen=True)
class Args:
    pass


@dataclass
class Running:
    server: TestServer
    session: aiohttp.ClientSession
    gate: asyncio.Event
    attempts: list[int]

    @property
    def db(self) -> Database:
        return self.server.app[STORE].database

    async def health(self) -> dict[str, Any]:
        async with self.session.get(self.server.make_url("/api/v1/health")) as resp:
            assert resp.status == 200
            body: dict[str, Any] = await resp.json()
            return body


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    gate = asyncio.Event()
    attempts: list[int] = []

    async def handler(ctx: JobContext, _args: Args) -> None:
        attempts.append(ctx.job.attempts)
        if len(attempts) == 1:
            await gate.wait()
            # Recording this failure needs new pages: it hits the full disk.
            raise RuntimeError("x" * HUGE)

    async def writer(ctx: JobContext, _args: Args) -> None:
        attempts.append(ctx.job.attempts)
        await app[STORE].database.execute("INSERT INTO filler VALUES (randomblob(?))", (HUGE,))

    app = build_app(daemon_config(tmp_path / "data"), TOKEN)
    app[DAEMON].registry.register(JobType("test.fails_once", Args, handler, resource=Resource.CPU))
    app[DAEMON].registry.register(JobType("test.writes", Args, writer, resource=Resource.IO))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    session = aiohttp.ClientSession()
    try:
        yield Running(server, session, gate, attempts)
    finally:
        await session.close()
        await server.close()


async def fill_up(db: Database) -> None:
    """Cap the database at its current size and use up every free page."""
    await db.execute("CREATE TABLE filler (data BLOB)")
    async with db.transaction() as conn:
        # The cap cannot go below the current size: this caps it right there.
        await conn.execute("PRAGMA max_page_count = 1")
    with pytest.raises(sqlite3.OperationalError, match="full"):
        for _ in range(10_000):
            await db.execute("INSERT INTO filler VALUES (randomblob(1000))")
    assert db.health.problem == "disk_full"
    # A write that needs no new page still works, and clears the state again.
    await db.execute("UPDATE filler SET data = data WHERE rowid = 1")
    assert db.health.ok


def worker_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("worker-")]


async def test_full_disk_keeps_workers_alive_and_the_queue_resumes(running: Running) -> None:
    app = running.server.app
    queue = app[QUEUE].jobs
    enqueued = await queue.enqueue(app[DAEMON].registry.get("test.fails_once"), Args())
    job_id = enqueued.job.id

    async def started() -> bool:
        return bool(running.attempts)

    await eventually(started)
    await fill_up(running.db)

    running.gate.set()  # the handler fails; recording that failure finds the disk full

    async def unhealthy() -> bool:
        return (await running.health())["database"]["ok"] is False

    await eventually(unhealthy, timeout=10)
    body = await running.health()
    assert body["status"] == "degraded"
    assert body["database"]["problem"] == "disk_full"
    assert "full" in body["database"]["error"]
    await asyncio.sleep(1.0)  # several failed attempts to record the outcome
    assert len(worker_tasks()) == WORKERS
    assert not any(t.done() for t in worker_tasks())
    job = await queue.store.get(job_id)
    assert job is not None and job.state is JobState.RUNNING

    # Event intake answers a specific 503, not a generic 500.
    big_event = {"id": 5, "type": "Scene.Update.Post", "input": {"id": "5", "title": "t" * HUGE}}
    async with running.session.post(
        running.server.make_url("/api/v1/events/stash"), json=big_event, headers=AUTH
    ) as resp:
        assert resp.status == 503
        error = (await resp.json())["error"]
    assert error["code"] == "store_unavailable"
    assert error["details"] == {"reason": "disk_full"}

    # Space comes back: the queue records the failure and runs the job again by itself.
    async with running.db.transaction() as conn:
        await conn.execute("PRAGMA max_page_count = 1073741823")

    async def drained() -> bool:
        found = await queue.store.get(job_id)
        return found is not None and found.state is JobState.SUCCEEDED

    await eventually(drained, timeout=40)
    assert running.attempts == [1, 2]
    assert (await running.health())["database"] == {
        "ok": True,
        "schema_version": (await running.health())["database"]["schema_version"],
    }
    assert len(worker_tasks()) == WORKERS and not any(t.done() for t in worker_tasks())


async def test_a_job_whose_writes_are_refused_waits_without_burning_attempts(
    running: Running,
) -> None:
    app = running.server.app
    queue = app[QUEUE].jobs
    await fill_up(running.db)
    enqueued = await queue.enqueue(app[DAEMON].registry.get("test.writes"), Args())
    job_id = enqueued.job.id

    async def refused_twice() -> bool:
        job = await queue.store.get(job_id)
        assert job is not None
        return len(running.attempts) >= 2 and job.state is JobState.QUEUED

    await eventually(refused_twice, timeout=10)
    job = await queue.store.get(job_id)
    assert job is not None
    assert job.attempts == 0 and job.last_error is not None and "full" in job.last_error
    async with running.db.transaction() as conn:
        await conn.execute("PRAGMA max_page_count = 1073741823")

    async def done() -> bool:
        found = await queue.store.get(job_id)
        return found is not None and found.state is JobState.SUCCEEDED

    await eventually(done, timeout=40)
    job = await queue.store.get(job_id)
    assert job is not None and job.attempts == 1  # the refused runs did not count
