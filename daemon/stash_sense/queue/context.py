"""The job queue's start-up contexts: recovery, the worker pools, maintenance."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace

from aiohttp import web

from stash_sense.engine.sizing import gpu_job_slots
from stash_sense.keys import DAEMON, QUEUE, STORE
from stash_sense.lifecycle import background, every
from stash_sense.queue.maintenance import PRUNE_JOBS, JobPruner, PruneJobsArgs
from stash_sense.queue.runtime import QueueRuntime
from stash_sense.queue.store import JobStore
from stash_sense.queue.workers import JobQueue

_LOGGER = logging.getLogger(__name__)


async def queue_ctx(app: web.Application) -> AsyncIterator[None]:
    """Create the job queue and recover jobs a dead process left running."""
    config = app[DAEMON].config
    store = JobStore(app[STORE].database, app[DAEMON].changes)
    registry = app[DAEMON].registry
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
    # Pipelined identification takes many scenes at once: one running job per scene.
    concurrency = replace(config.queue.concurrency, gpu=gpu_job_slots(config))
    app[QUEUE] = QueueRuntime(
        JobQueue(store, registry, replace(config.queue, concurrency=concurrency))
    )
    yield


async def workers_ctx(app: web.Application) -> AsyncIterator[None]:
    """Run the worker pools; on shutdown give running jobs their grace period."""
    queue = app[QUEUE].jobs
    await queue.start()
    yield
    await queue.stop()


async def maintenance_ctx(app: web.Application) -> AsyncIterator[None]:
    """Checkpoint the WAL and enqueue job pruning periodically."""
    config = app[DAEMON].config
    queue = app[QUEUE].jobs
    prune_type = app[DAEMON].registry.get(PRUNE_JOBS)

    async def prune() -> None:
        await queue.enqueue(prune_type, PruneJobsArgs(), idempotency_key=PRUNE_JOBS)

    async with (
        background(
            every(config.store.checkpoint_interval_seconds, app[STORE].database.checkpoint), "wal"
        ),
        background(every(config.queue.prune_interval_hours * 3600, prune), "prune"),
    ):
        yield
