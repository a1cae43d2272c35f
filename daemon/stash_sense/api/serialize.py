"""JSON shapes of domain objects, shared by the routes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from stash_sense.queue import Job
from stash_sense.writes import AuditEntry


def iso(timestamp: float | None) -> str | None:
    """Format a Unix time as ISO 8601 UTC."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    """Describe an audit entry for the API, its times in ISO 8601 like every route's."""
    return {
        **entry.to_json(),
        "created_at": iso(entry.created_at),
        "undone_at": iso(entry.undone_at),
    }


def job_json(job: Job) -> dict[str, Any]:
    """Describe a job for the API."""
    return {
        "id": job.id,
        "type": job.type,
        "args": job.args,
        "state": job.state.value,
        "priority": job.priority,
        "resource": job.resource.value,
        "idempotency_key": job.idempotency_key,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "run_at": iso(job.run_at),
        "last_error": job.last_error,
        "progress": {
            "done": job.progress.done,
            "total": job.progress.total,
            "message": job.progress.message,
        },
        "cancel_requested": job.cancel_requested,
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
    }
