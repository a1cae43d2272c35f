"""The durable job queue: every heavy piece of work is a job in SQLite."""

from stash_sense.queue.errors import JobCancelled, PermanentJobError, UnknownJobType
from stash_sense.queue.models import Capability, Job, JobState, Priority, Progress, Resource
from stash_sense.queue.registry import JobContext, JobRegistry, JobType
from stash_sense.queue.store import Enqueued, JobPage, JobStore
from stash_sense.queue.workers import JobQueue, Request

__all__ = [
    "Capability",
    "Enqueued",
    "Job",
    "JobCancelled",
    "JobContext",
    "JobPage",
    "JobQueue",
    "JobRegistry",
    "JobState",
    "JobStore",
    "JobType",
    "PermanentJobError",
    "Priority",
    "Progress",
    "Request",
    "Resource",
    "UnknownJobType",
]
