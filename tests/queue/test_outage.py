"""A Stash outage seen by a job parks it without burning attempts; Stash's return resumes it."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from stash_sense.queue import JobContext, JobQueue, JobRegistry, JobState, JobType, Resource
from stash_sense.stash.client import StashClient
from stash_sense.stash.monitor import StashMonitor, StashStatus, is_outage
from tests.fakes.stash.server import FakeStash
from tests.helpers import daemon_config, eventually

from .test_queue import wait_for_state


@dataclass(frozen=True)
class Args:
    pass


async def test_outage_parks_jobs_without_counting_attempts(
    fake_stash: FakeStash,
    queue: JobQueue,
    registry: JobRegistry,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = daemon_config(tmp_path, stash_url=fake_stash.url).stash
    client = StashClient(dataclasses.replace(config, timeout_seconds=0.5))
    status = StashStatus()
    monitor = StashMonitor(
        client,
        status,
        interval=30.0,  # the periodic check alone would notice far too late
        on_ready=lambda ready: queue.set_capability("stash", ready),
        first_retry=0.2,
    )
    queue.add_outage("stash", is_outage, monitor.mark_down)
    calls: list[float] = []

    async def handler(_ctx: JobContext, _args: Args) -> None:
        calls.append(time.monotonic())
        await client.version()

    job_type = JobType(
        "test.asks_stash",
        Args,
        handler,
        resource=Resource.IO,
        max_attempts=2,
        requires=frozenset({"stash"}),
    )
    registry.register(job_type)
    monitor_task = asyncio.create_task(monitor.run())
    try:
        await eventually(lambda: asyncio.sleep(0, status.ready))
        # Stash stops answering: every request is dropped for two seconds.
        fake_stash.faults.drop(duration_s=2.0)
        jobs = [(await queue.enqueue(job_type, Args())).job.id for _ in range(3)]
        with caplog.at_level(logging.INFO):
            await queue.start()
            for job_id in jobs:
                await wait_for_state(queue.store, job_id, JobState.SUCCEEDED, timeout=20)
        for job_id in jobs:
            job = await queue.store.get(job_id)
            assert job is not None and job.attempts == 1, job
        # Stash was taken down at the first failure, not at the next periodic check.
        assert status.reachable
        parked = [r for r in caplog.records if "is down" in r.getMessage()]
        assert 1 <= len(parked) <= len(jobs)  # once per state change, not per attempt
        # One outage, one line per part and state change: not one per attempt or job.
        messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
        for says in ("is down", "Stash is unreachable", "; retry ", "Stash answers again"):
            assert len([m for m in messages if says in m]) <= 1, (says, messages)
    finally:
        monitor_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await monitor_task
        await client.close()
