"""The job queue: enqueue, per-resource worker pools, retries, cancellation, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from stash_sense.config import QueueConfig
from stash_sense.queue.backoff import retry_delay
from stash_sense.queue.errors import JobCancelled, PermanentJobError, UnknownJobType
from stash_sense.queue.models import Job, JobState, Resource
from stash_sense.queue.registry import JobContext, JobRegistry, JobType
from stash_sense.queue.store import Enqueued, JobStore, NewJob
from stash_sense.store import StoreError, refusal

_LOGGER = logging.getLogger(__name__)
# A store that refuses writes (disk full, read-only, locked) is waited out, not fatal.
STORE_ERRORS = (sqlite3.Error, StoreError)
STORE_RETRY_FIRST_SECONDS = 0.2
STORE_RETRY_MAX_SECONDS = 30.0


@dataclass(frozen=True)
class Request:
    """One job to enqueue, as a caller states it."""

    job_type: JobType[Any]
    args: Any
    priority: int | None = None
    idempotency_key: str | None = None
    delay_seconds: float = 0.0


@dataclass
class _Running:
    """A job executing in this process."""

    job: Job
    context: JobContext
    task: asyncio.Task[None]
    shutdown: bool = False


@dataclass(frozen=True)
class Outage:
    """Errors that mean a capability is down: the job is parked, the attempt not counted."""

    capability: str
    matches: Callable[[BaseException], bool]
    on_down: Callable[[BaseException], None]


@dataclass
class _Backoff:
    """A capped exponential wait between attempts against a store that refuses work."""

    delay: float = STORE_RETRY_FIRST_SECONDS

    async def wait(self, stop: asyncio.Event) -> None:
        """Wait the current delay (less if the queue stops), then double it."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), self.delay)
        self.delay = min(self.delay * 2, STORE_RETRY_MAX_SECONDS)

    def reset(self) -> None:
        """Start from the first delay again."""
        self.delay = STORE_RETRY_FIRST_SECONDS


@dataclass
class _Pool:
    """The workers of one resource class."""

    resource: Resource
    size: int
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class JobQueue:
    """Run registered jobs from the store on per-resource worker pools.

    Delivery is at least once: a job that was running when the process died runs
    again after restart, so every handler must be idempotent.
    """

    def __init__(
        self,
        store: JobStore,
        registry: JobRegistry,
        config: QueueConfig,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self._config = config
        self._rng = rng or random.Random()
        self._capabilities: set[str] = set()
        self._pools = {
            resource: _Pool(resource, getattr(config.concurrency, resource.value))
            for resource in Resource
        }
        self._running: dict[int, _Running] = {}
        self._stop = asyncio.Event()
        self._outages: list[Outage] = []
        self._store_paused = False  # the store refused work and nothing went through since
        self._refused = 0  # handlers refused by the store since a job last succeeded

    # -- enqueueing --------------------------------------------------------------

    async def enqueue(
        self,
        job_type: JobType[Any],
        args: Any,
        *,
        priority: int | None = None,
        idempotency_key: str | None = None,
        delay_seconds: float = 0.0,
    ) -> Enqueued:
        """Enqueue one job; a live job with the same idempotency key is returned instead."""
        request = Request(job_type, args, priority, idempotency_key, delay_seconds)
        (result,) = await self.enqueue_many([request])
        return result

    async def enqueue_many(self, requests: Sequence[Request]) -> list[Enqueued]:
        """Enqueue several jobs in one transaction."""
        now = time.time()
        new_jobs = []
        for req in requests:
            if req.job_type.name not in self.registry:
                raise UnknownJobType(f"job type {req.job_type.name!r} is not registered")
            new_jobs.append(
                NewJob(
                    type=req.job_type.name,
                    args=req.job_type.encode_args(req.args),
                    resource=req.job_type.resource,
                    priority=req.priority if req.priority is not None else req.job_type.priority,
                    max_attempts=req.job_type.max_attempts or self._config.max_attempts,
                    idempotency_key=req.idempotency_key,
                    run_at=now + req.delay_seconds,
                )
            )
        results = await self.store.enqueue_many(new_jobs)
        for resource in {r.job.resource for r in results if r.created}:
            self._pools[resource].wake.set()
        return results

    # -- control -----------------------------------------------------------------

    async def cancel(self, job_id: int) -> Job | None:
        """Cancel a queued job at once, or ask a running one to stop between steps."""
        job = await self.store.request_cancel(job_id)
        running = self._running.get(job_id)
        if running is not None:
            running.context.request_cancel()
        return job

    async def cancel_by_keys(self, keys: Iterable[str]) -> int:
        """Cancel the live jobs holding these idempotency keys; return how many."""
        jobs = await self.store.live_by_keys(list(keys))
        for job in jobs:
            await self.cancel(job.id)
        return len(jobs)

    async def retry(self, job_id: int) -> Job | None:
        """Queue a failed or cancelled job again."""
        job = await self.store.retry(job_id)
        if job is not None and job.state is JobState.QUEUED:
            self._pools[job.resource].wake.set()
        return job

    def set_capability(self, name: str, available: bool) -> None:
        """Declare a capability (e.g. "stash") up or down; jobs needing it wait while down."""
        if available == (name in self._capabilities):
            return
        if available:
            self._capabilities.add(name)
            for pool in self._pools.values():
                pool.wake.set()
        else:
            self._capabilities.discard(name)

    def add_outage(
        self,
        capability: str,
        matches: Callable[[BaseException], bool],
        on_down: Callable[[BaseException], None],
    ) -> None:
        """Treat errors that `matches` as `capability` being down, not as a failed attempt."""
        self._outages.append(Outage(capability, matches, on_down))

    @property
    def running_ids(self) -> list[int]:
        """Ids of jobs executing in this process."""
        return list(self._running)

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Fail jobs of unknown types and start the worker pools."""
        failed = await self.store.fail_unknown_types([t.name for t in self.registry])
        if failed:
            _LOGGER.warning("Marked %d queued jobs failed: no handler for their type", failed)
        self._stop.clear()
        for pool in self._pools.values():
            for index in range(pool.size):
                name = f"worker-{pool.resource.value}-{index}"
                pool.tasks.append(asyncio.create_task(self._work(pool), name=name))

    async def stop(self, grace_seconds: float | None = None) -> None:
        """Stop taking jobs, let running ones finish within the grace, requeue the rest."""
        grace = self._config.shutdown_grace_seconds if grace_seconds is None else grace_seconds
        self._stop.set()
        for pool in self._pools.values():
            pool.wake.set()
        running = list(self._running.values())
        if running:
            _LOGGER.info("Waiting up to %.0fs for %d running jobs", grace, len(running))
            await asyncio.wait([r.task for r in running], timeout=grace)
        leftovers = [r for r in self._running.values() if not r.task.done()]
        for item in leftovers:
            item.shutdown = True
            # Work running in threads only stops at its own checks: ask it to.
            item.context.request_cancel()
            item.task.cancel()
        workers = [t for pool in self._pools.values() for t in pool.tasks]
        await asyncio.gather(*workers, return_exceptions=True)
        for pool in self._pools.values():
            pool.tasks.clear()
        if leftovers:
            _LOGGER.info("Requeued %d jobs interrupted by shutdown", len(leftovers))

    # -- workers -----------------------------------------------------------------

    def _eligible_types(self, resource: Resource) -> list[str]:
        """Job types of `resource` whose required capabilities are all up."""
        return [
            t.name
            for t in self.registry
            if t.resource is resource and t.requires <= self._capabilities
        ]

    async def _work(self, pool: _Pool) -> None:
        """Claim and run jobs of one resource class until the queue stops.

        A store error never ends a worker: it backs off and tries again, so the
        queue resumes by itself once the database accepts writes again.
        """
        backoff = _Backoff()
        while not self._stop.is_set():
            try:
                await self._work_once(pool)
            except STORE_ERRORS as err:
                self._store_refused(err)
                await backoff.wait(self._stop)
            else:
                backoff.reset()

    async def _work_once(self, pool: _Pool) -> None:
        """Claim one job and run it, or wait for one."""
        pool.wake.clear()
        types = self._eligible_types(pool.resource)
        job = await self.store.claim(pool.resource, types, time.time())
        if job is not None and self._stop.is_set():
            # Claimed while shutdown began: hand it back untouched.
            await self.store.release([job.id])
            return
        if job is None:
            await self._idle(pool, types)
            return
        self._store_works()
        # Another job may be due too: let a sibling worker look for it.
        pool.wake.set()
        await self._run(job)

    def _store_refused(self, err: BaseException) -> None:
        """Log the first store error of an episode (all workers share one)."""
        if not self._store_paused:
            _LOGGER.warning("Job queue paused: the database refuses work (%s); retrying", err)
            self._store_paused = True

    def _store_works(self) -> None:
        """Note a write that went through: the episode, if any, is over."""
        if self._store_paused:
            _LOGGER.info("Job queue resumed: the database accepts work again")
            self._store_paused = False

    async def _persist(self, job: Job, what: str, action: Callable[[], Awaitable[None]]) -> None:
        """Record a job's outcome, retrying through store errors until it is stored.

        Only shutdown gives up: the job then stays `running` in the store, and the
        next start requeues it, so its outcome may be redone but is never lost.
        """
        backoff = _Backoff()
        while True:
            try:
                await action()
            except STORE_ERRORS as err:
                if self._stop.is_set():
                    _LOGGER.warning(
                        "Job %d %s: could not record %s (%s); it runs again at the next start",
                        job.id,
                        job.type,
                        what,
                        err,
                    )
                    return
                self._store_refused(err)
                await backoff.wait(self._stop)
            else:
                self._store_works()
                return

    async def _idle(self, pool: _Pool, types: Iterable[str]) -> None:
        """Sleep until woken, the next job is due, or the safety-net poll."""
        timeout = self._config.poll_interval_seconds
        due = await self.store.next_run_at(pool.resource, list(types))
        if due is not None:
            timeout = min(timeout, max(due - time.time(), 0.0))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(pool.wake.wait(), timeout)

    async def _run(self, job: Job) -> None:
        """Execute one claimed job and record its outcome."""
        job_type = self.registry.get(job.type)
        context = JobContext(job, self.store.set_progress)
        if job.cancel_requested:
            context.request_cancel()
        task = asyncio.create_task(self._invoke(job_type, context), name=f"job-{job.id}")
        running = _Running(job, context, task)
        self._running[job.id] = running
        try:
            # wait() never raises the task's exception; the outcome is read below.
            await asyncio.wait([task])
        except asyncio.CancelledError:
            running.shutdown = True
            task.cancel()
            await asyncio.wait([task])
            raise
        finally:
            self._running.pop(job.id, None)
            if task.cancelled() and running.shutdown:
                with contextlib.suppress(*STORE_ERRORS):
                    # Left running in the store, the next start requeues it instead.
                    await self.store.release([job.id])
        if task.cancelled():
            if not running.shutdown:
                await self._persist(
                    job, "its cancellation", lambda: self.store.mark_cancelled(job.id, "cancelled")
                )
        elif (err := task.exception()) is not None:
            await self._persist(job, "its failure", lambda: self._record_failure(job, err))
        else:
            await self._persist(job, "its success", lambda: self.store.succeed(job.id))
            self._refused = 0
            _LOGGER.info("Job %d %s succeeded", job.id, job.type)

    async def _invoke(self, job_type: JobType[Any], context: JobContext) -> None:
        """Decode the arguments and call the handler, with its timeout if any."""
        args = job_type.decode_args(context.job.args)
        if job_type.timeout_seconds is None:
            await job_type.handler(context, args)
            return
        try:
            async with asyncio.timeout(job_type.timeout_seconds):
                await job_type.handler(context, args)
        except TimeoutError:
            raise TimeoutError(f"timed out after {job_type.timeout_seconds:g}s") from None

    async def _record_failure(self, job: Job, err: BaseException) -> None:
        """Retry, fail or cancel a job after its handler raised."""
        reason = _describe(err)
        if await self._park(job, err, reason):
            return
        if isinstance(err, JobCancelled):
            await self.store.mark_cancelled(job.id)
            _LOGGER.info("Job %d %s cancelled", job.id, job.type)
            return
        if isinstance(err, PermanentJobError):
            await self.store.fail(job.id, reason)
            _LOGGER.error("Job %d %s failed: %s", job.id, job.type, reason)
            return
        if job.attempts >= job.max_attempts:
            await self.store.fail(job.id, reason)
            _LOGGER.error(
                "Job %d %s failed after %d attempts: %s", job.id, job.type, job.attempts, reason
            )
            return
        delay = retry_delay(
            job.attempts,
            self._config.retry_base_seconds,
            self._config.retry_max_seconds,
            self._rng,
        )
        await self.store.schedule_retry(job.id, reason, time.time() + delay)
        _LOGGER.warning(
            "Job %d %s failed (attempt %d/%d), retrying in %.1fs: %s",
            job.id,
            job.type,
            job.attempts,
            job.max_attempts,
            delay,
            reason,
        )

    async def _park(self, job: Job, err: BaseException, reason: str) -> bool:
        """Requeue a job that failed for an outage, not counting the attempt; say if so."""
        if refusal(err) is not None:
            # The database refused the handler's writes: wait it out, do not burn
            # attempts, and wait longer each time until a job succeeds again.
            delay = min(STORE_RETRY_FIRST_SECONDS * 2**self._refused, STORE_RETRY_MAX_SECONDS)
            await self.store.release([job.id], run_at=time.time() + delay, note=reason)
            self._refused += 1
            return True
        requires = self.registry.get(job.type).requires if job.type in self.registry else ()
        for outage in self._outages:
            if outage.capability in requires and outage.matches(err):
                if outage.capability in self._capabilities:
                    _LOGGER.warning(
                        "Job %d %s: %s is down (%s); its jobs wait for it",
                        job.id,
                        job.type,
                        outage.capability,
                        reason,
                    )
                # Down before the release, so no worker claims the job again meanwhile.
                self.set_capability(outage.capability, False)
                outage.on_down(err)
                await self.store.release([job.id], note=reason)
                return True
        return False


def _describe(err: BaseException) -> str:
    """Give a one-line reason for the UI and the log."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    if isinstance(err, PermanentJobError | JobCancelled) and text:
        return text
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
