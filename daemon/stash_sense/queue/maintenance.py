"""Maintenance jobs of the queue itself."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from stash_sense.config import QueueConfig
from stash_sense.queue.models import Priority, Resource
from stash_sense.queue.registry import JobContext, JobType
from stash_sense.queue.store import JobStore

_LOGGER = logging.getLogger(__name__)
PRUNE_JOBS = "maintenance.prune_jobs"
_DAY = 86_400.0


@dataclass(frozen=True)
class PruneJobsArgs:
    """Arguments of `maintenance.prune_jobs` (none: the limits come from config)."""


class JobPruner:
    """Delete finished jobs past their retention."""

    def __init__(self, store: JobStore, config: QueueConfig) -> None:
        self._store = store
        self._config = config

    async def run(self, context: JobContext, args: PruneJobsArgs) -> None:
        """Prune old succeeded, cancelled and failed jobs."""
        now = time.time()
        await context.progress(0, 1, "pruning finished jobs")
        deleted = await self._store.prune(
            finished_before=now - self._config.keep_finished_days * _DAY,
            failed_before=now - self._config.keep_failed_days * _DAY,
        )
        await context.progress(1, 1, f"deleted {deleted} jobs")
        if deleted:
            _LOGGER.info("Pruned %d finished jobs", deleted)

    def job_type(self) -> JobType[PruneJobsArgs]:
        """Describe the prune job for the registry."""
        return JobType(
            name=PRUNE_JOBS,
            args_type=PruneJobsArgs,
            handler=self.run,
            resource=Resource.IO,
            priority=Priority.LOW,
        )
