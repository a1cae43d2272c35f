"""The job queue's runtime objects, published by its start-up context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stash_sense.queue.workers import JobQueue


@dataclass(frozen=True)
class QueueRuntime:
    """The job queue, recovered and ready to take jobs."""

    jobs: JobQueue
