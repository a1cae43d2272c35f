"""What a job is: its state machine, resource classes and priorities."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any

import aiosqlite


class JobState(StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def live(self) -> bool:
        """Tell whether the job may still run."""
        return self in (JobState.QUEUED, JobState.RUNNING)


class Resource(StrEnum):
    """Resource classes; each has its own worker pool (see `[queue.concurrency]`)."""

    GPU = "gpu"
    CPU = "cpu"
    IO = "io"


class Capability(StrEnum):
    """Capabilities a job type may require (`JobType.requires`); declared up or down."""

    STASH = "stash"  # Stash reachable and compatible


class Priority(IntEnum):
    """Common priorities; higher runs first, any integer is allowed."""

    LOW = -10
    NORMAL = 0
    HIGH = 10


@dataclass(frozen=True)
class Progress:
    """How far a running job is."""

    done: int
    total: int | None
    message: str | None


@dataclass(frozen=True)
class Job:
    """A snapshot of one job row."""

    id: int
    type: str
    args: dict[str, Any]
    priority: int
    resource: Resource
    state: JobState
    idempotency_key: str | None
    attempts: int
    max_attempts: int
    run_at: float
    last_error: str | None
    progress: Progress
    cancel_requested: bool
    created_at: float
    updated_at: float
    started_at: float | None
    finished_at: float | None

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Job:
        """Build a job from a `jobs` row."""
        return cls(
            id=row["id"],
            type=row["type"],
            args=json.loads(row["args"]),
            priority=row["priority"],
            resource=Resource(row["resource"]),
            state=JobState(row["state"]),
            idempotency_key=row["idempotency_key"],
            attempts=row["attempts"],
            max_attempts=row["max_attempts"],
            run_at=row["run_at"],
            last_error=row["last_error"],
            progress=Progress(row["progress_done"], row["progress_total"], row["progress_message"]),
            cancel_requested=bool(row["cancel_requested"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
        )

    def summary(self) -> dict[str, Any]:
        """Describe the job for a live view: small, and enough to find its scene."""
        scene_id = self.args.get("scene_id")
        return {
            "id": self.id,
            "type": self.type,
            "state": self.state.value,
            "scene_id": scene_id if isinstance(scene_id, int) else None,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "progress": {
                "done": self.progress.done,
                "total": self.progress.total,
                "message": self.progress.message,
            },
        }
