"""The `analyzer.run` job: load an analyzer's row, run it, record the outcome."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from stash_sense.analyzers.base import AnalyzerRun
from stash_sense.analyzers.registry import AnalyzerRegistry, UnknownAnalyzer
from stash_sense.analyzers.state import AnalyzerStateStore
from stash_sense.config import Config
from stash_sense.queue import (
    Capability,
    Enqueued,
    Job,
    JobCancelled,
    JobContext,
    JobQueue,
    JobType,
    PermanentJobError,
    Priority,
    Resource,
)
from stash_sense.review import ReviewQueue
from stash_sense.stash import StashClient

_LOGGER = logging.getLogger(__name__)
RUN_ANALYZER = "analyzer.run"


@dataclass(frozen=True)
class AnalyzerRunArgs:
    """Arguments of `analyzer.run`."""

    name: str
    full: bool = False


def run_key(name: str) -> str:
    """Return the idempotency key that keeps one live run per analyzer."""
    return f"analyzer:{name}"


@dataclass(frozen=True)
class RunResult:
    """What one run did."""

    name: str
    full: bool
    counts: dict[str, int]


class AnalyzerRunner:
    """Run analyzers as durable jobs (or directly, for the command line)."""

    def __init__(
        self,
        registry: AnalyzerRegistry,
        states: AnalyzerStateStore,
        reviews: ReviewQueue,
        stash: StashClient,
        config: Config,
    ) -> None:
        self.registry = registry
        self.states = states
        self._reviews = reviews
        self._stash = stash
        self._config = config

    def job_type(self) -> JobType[AnalyzerRunArgs]:
        """Describe `analyzer.run` for the job registry."""
        return JobType(
            name=RUN_ANALYZER,
            args_type=AnalyzerRunArgs,
            handler=self._handle,
            resource=Resource.IO,
            priority=Priority.NORMAL,
            requires=frozenset({Capability.STASH}),
        )

    async def enqueue(self, queue: JobQueue, name: str, *, full: bool = False) -> Enqueued:
        """Queue a run; while one is queued or running, that one is returned instead."""
        if name not in self.registry:
            raise UnknownAnalyzer(name)
        return await queue.enqueue(
            self.job_type(), AnalyzerRunArgs(name, full), idempotency_key=run_key(name)
        )

    async def live_jobs(self, queue: JobQueue) -> dict[str, Job]:
        """Return the queued or running job of each analyzer that has one."""
        keys = {run_key(n): n for n in self.registry.names()}
        return {
            keys[j.idempotency_key]: j
            for j in await queue.store.live_by_keys(list(keys))
            if j.idempotency_key in keys
        }

    async def _handle(self, context: JobContext, args: AnalyzerRunArgs) -> None:
        """Run one analyzer inside a job."""
        if args.name not in self.registry:
            raise PermanentJobError(f"no analyzer named {args.name!r}")
        await self.run(
            args.name,
            full=args.full,
            job_id=context.job.id,
            progress=context.progress,
            check_cancelled=context.check_cancelled,
        )

    async def run(
        self,
        name: str,
        *,
        full: bool = False,
        job_id: int | None = None,
        progress: Callable[[int, int | None, str | None], Awaitable[None]] | None = None,
        check_cancelled: Callable[[], None] | None = None,
    ) -> RunResult:
        """Run one analyzer now; a changed logic version forces a full run."""
        analyzer = self.registry.get(name)
        row = await self.states.get(name)
        # Never run, or its logic changed since: the watermark means nothing any more.
        forced = row.logic_version != analyzer.logic_version
        full = full or forced
        # A forced full run drops the old watermark now: if it is interrupted, the
        # rerun resumes from what this run (under the new logic) has committed.
        await self.states.started(name, job_id, reset_to=analyzer.logic_version if forced else None)
        if forced:
            row = await self.states.get(name)

        async def save(watermark: str | None, state: dict[str, Any]) -> None:
            await self.states.save_progress(name, watermark, state)

        extras: dict[str, Any] = {}
        if progress is not None:
            extras["progress"] = progress
        if check_cancelled is not None:
            extras["check_cancelled"] = check_cancelled
        run = AnalyzerRun(
            name=name,
            full=full,
            watermark=row.watermark,
            stash=self._stash,
            config=self._config,
            reviews=self._reviews,
            state=row.state,
            save=save,
            **extras,
        )
        _LOGGER.info("Analyzer %s: %s run started", name, "full" if full else "incremental")
        try:
            await analyzer.run(run)
        except JobCancelled:
            await self.states.failed(name, "cancelled")
            raise
        except Exception as err:
            await self.states.failed(name, f"{type(err).__name__}: {err}")
            raise
        counts = dict(sorted(run.counts.items()))
        await self.states.succeeded(
            name,
            logic_version=analyzer.logic_version,
            watermark=run.watermark,
            state=run.state(),
            counts=counts,
        )
        _LOGGER.info("Analyzer %s finished: %s", name, counts or "nothing to report")
        return RunResult(name, full, counts)
