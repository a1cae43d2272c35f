"""The job queue's start-up contexts: recovery, the worker pools, maintenance."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from stash_sense.keys import CHANGES, CONFIG, DATABASE, JOB_QUEUE, JOB_REGISTRY
from stash_sense.lifecycle import background, every
from stash_sense.queue.maintenance import PRUNE_JOBS, JobPruner, PruneJobsArgs
from stash_sense.queue.store import JobStore
from stash_sense.queue.workers import JobQueue

_LOGGER = logging.getLogger(__name__)


async def queue_ctx(app: web.Application) -> AsyncIterator[None]:
    """Create the job queue and recover jobs a dead process left running."""
    config = app[CONFIG]
    store = JobStore(app[DATABASE], app[CHANGES])
    registry = app[JOB_REGISTRY]
    registry.register(JobPruner(store, config.queue).job_type())
    # Recovery runs here, before the API binds, so no client sees a stale "running" job.
    recovered = await store.recover()
    if recovered.requeued or recovered.failed or recovered.cancelled:
        _LOGGER.info(
            "Recovered interrupted jobs: %d requeued, %d failed (too many attempts), %d cancelled",
            recovered.requeued,
            recovered.failed,
            recovered.cancelled,
        )
    app[JOB_QUEUE] = JobQueue(store, registry, config.queue)
    yield


async def workers_ctx(app: web.Application) -> AsyncIterator[None]:
    """Run the worker pools; on shutdown give running jobs their grace period."""
    queue = app[JOB_QUEUE]
    await queue.start()
    yield
    await queue.stop()


async def maintenance_ctx(app: web.Application) -> AsyncIterator[None]:
    """Checkpoint the WAL and enqueue job pruning periodically."""
    config = app[CONFIG]
    queue = app[JOB_QUEUE]
    prune_type = app[JOB_REGISTRY].get(PRUNE_JOBS)

    async def prune() -> None:
        await queue.enqueue(prune_type, PruneJobsArgs(), idempotency_key=PRUNE_JOBS)

    async with (
        background(
            every(config.store.checkpoint_interval_seconds, app[DATABASE].checkpoint), "wal"
        ),
        background(every(config.queue.prune_interval_hours * 3600, prune), "prune"),
    ):
        yield
