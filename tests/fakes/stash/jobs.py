"""In-process pub/sub and a one-at-a-time job queue, like Stash's job manager."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["Job", "JobManager", "JobProgress", "PubSub", "Subscription", "job_to_graphql"]

# Stash's per-subscriber channels hold 100 events and sends never block, so a slow
# subscriber loses events; the fake keeps that behaviour.
CHANNEL_CAPACITY = 100

JOBS = "jobs"
SCAN_COMPLETE = "scan_complete"
LOGGING = "logging"


class Subscription(AsyncIterator[Any]):
    """One subscriber's queue; registered at construction so no event is missed."""

    def __init__(self, pubsub: PubSub, topic: str) -> None:
        """Register a bounded queue on ``topic``."""
        self._pubsub = pubsub
        self._topic = topic
        self.queue: asyncio.Queue[Any] = asyncio.Queue(CHANNEL_CAPACITY)
        self.dropped = 0
        pubsub._subscribers.setdefault(topic, set()).add(self)

    def __aiter__(self) -> Subscription:
        """Return self."""
        return self

    async def __anext__(self) -> Any:
        """Wait for the next event."""
        return await self.queue.get()

    async def aclose(self) -> None:
        """Unregister (graphql-core calls this when the client stops)."""
        self._pubsub._subscribers.get(self._topic, set()).discard(self)


class PubSub:
    """Fan events out to subscribers of a topic."""

    def __init__(self) -> None:
        """Start with no subscribers."""
        self._subscribers: dict[str, set[Subscription]] = {}

    def subscribe(self, topic: str) -> Subscription:
        """Return a new subscription to ``topic``."""
        return Subscription(self, topic)

    def publish(self, topic: str, event: Any) -> None:
        """Deliver ``event`` to every subscriber without blocking (full queues drop it)."""
        for sub in list(self._subscribers.get(topic, ())):
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                sub.dropped += 1

    def count(self, topic: str) -> int:
        """Return how many subscribers ``topic`` has."""
        return len(self._subscribers.get(topic, ()))

    async def wait_for(self, topic: str, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until ``topic`` has at least ``count`` subscribers."""
        async with asyncio.timeout(timeout):
            # Polling keeps the bookkeeping trivial; tests wait milliseconds at most.
            while self.count(topic) < count:
                await asyncio.sleep(0.005)


@dataclass
class Job:
    """A job as ``Job`` in the schema (times are aware datetimes)."""

    id: str
    description: str
    add_time: datetime
    status: str = "READY"
    sub_tasks: list[str] | None = None
    progress: float | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    error: str | None = None

    def snapshot(self) -> Job:
        """Return a copy frozen at publish time."""
        return dataclasses.replace(
            self, sub_tasks=list(self.sub_tasks) if self.sub_tasks is not None else None
        )


@dataclass
class JobProgress:
    """Handle a running job uses to report progress."""

    job: Job
    _manager: JobManager = field(repr=False)

    def set(self, progress: float, *, sub_task: str | None = None) -> None:
        """Publish an UPDATE with a new progress fraction (0..1) and optional sub-task."""
        self.job.progress = progress
        self.job.sub_tasks = [sub_task] if sub_task else None
        self._manager.publish("UPDATE", self.job)


JobWork = Callable[[JobProgress], Awaitable[None]]


class JobManager:
    """Run jobs one at a time and publish ``jobsSubscribe`` events."""

    def __init__(self, pubsub: PubSub, now: Callable[[], datetime]) -> None:
        """Create an empty queue that timestamps with ``now``."""
        self._pubsub = pubsub
        self._now = now
        self._next_id = 1
        self._lock = asyncio.Lock()
        self.active: dict[str, Job] = {}
        # findJob also searches the last ten finished jobs.
        self.graveyard: deque[Job] = deque(maxlen=10)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._done: dict[str, asyncio.Event] = {}

    def publish(self, kind: str, job: Job) -> None:
        """Publish a JobStatusUpdate."""
        self._pubsub.publish(JOBS, {"type": kind, "job": job.snapshot()})

    def start(self, description: str, work: JobWork) -> Job:
        """Queue a job (ADD, READY) and run it when the queue is free; return at once."""
        job = Job(id=str(self._next_id), description=description, add_time=self._now())
        self._next_id += 1
        self.active[job.id] = job
        self._done[job.id] = asyncio.Event()
        self.publish("ADD", job)
        self._tasks[job.id] = asyncio.get_running_loop().create_task(self._run(job, work))
        return job

    async def run(self, description: str, work: JobWork) -> Job:
        """Queue a job and wait until it has left the queue."""
        job = self.start(description, work)
        await self.wait(job.id)
        return job

    async def wait(self, job_id: str) -> None:
        """Wait until the job has finished, failed or been cancelled."""
        event = self._done.get(job_id)
        if event is not None:
            await event.wait()

    def find(self, job_id: str) -> Job | None:
        """Return an active job or one of the last ten finished jobs."""
        if job_id in self.active:
            return self.active[job_id]
        return next((j for j in self.graveyard if j.id == job_id), None)

    def stop(self, job_id: str) -> bool:
        """Cancel a job (a running one goes STOPPING first, like Stash)."""
        job = self.active.get(job_id)
        task = self._tasks.get(job_id)
        if job is None or task is None:
            return False
        if job.status == "RUNNING":
            job.status = "STOPPING"
            self.publish("UPDATE", job)
        task.cancel()
        return True

    async def close(self) -> None:
        """Cancel every outstanding job."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, job: Job, work: JobWork) -> None:
        try:
            async with self._lock:
                job.status = "RUNNING"
                job.start_time = self._now()
                job.progress = 0.0
                self.publish("UPDATE", job)
                await work(JobProgress(job, self))
            job.status = "FINISHED"
        except asyncio.CancelledError:
            job.status = "CANCELLED"
        except Exception as exc:  # a failing job is reported on the job, not raised
            job.status = "FAILED"
            job.error = str(exc)
        finally:
            # Finished jobs get no UPDATE: the REMOVE carries the final status.
            job.end_time = self._now()
            self.active.pop(job.id, None)
            self._tasks.pop(job.id, None)
            self.graveyard.append(job)
            self.publish("REMOVE", job)
            self._done.pop(job.id).set()


def job_to_graphql(job: Job) -> dict[str, Any]:
    """Map a Job to the schema's field names."""
    return {
        "id": job.id,
        "status": job.status,
        "subTasks": job.sub_tasks,
        "description": job.description,
        "progress": job.progress,
        "startTime": job.start_time,
        "endTime": job.end_time,
        "addTime": job.add_time,
        "error": job.error,
    }
