"""Job rows in SQLite: every state change of a job is one statement here."""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from stash_sense.changes import ChangeHub, Topic
from stash_sense.queue.models import Job, JobState, Resource
from stash_sense.queue.stats import JobStats
from stash_sense.store import Database


@dataclass(frozen=True)
class NewJob:
    """A job to insert."""

    type: str
    args: dict[str, Any]
    resource: Resource
    priority: int
    max_attempts: int
    idempotency_key: str | None = None
    run_at: float | None = None


@dataclass(frozen=True)
class Enqueued:
    """The outcome of an enqueue: the job, and whether it is new."""

    job: Job
    created: bool


@dataclass(frozen=True)
class Recovered:
    """What start-up recovery did with jobs a dead process left running."""

    requeued: int
    failed: int
    cancelled: int


@dataclass(frozen=True)
class JobPage:
    """One page of a job listing."""

    jobs: list[Job]
    total: int


class JobStore:
    """All SQL about jobs."""

    def __init__(self, db: Database, changes: ChangeHub | None = None) -> None:
        self.db = db
        self._changes = changes
        # Fed here because every outcome a worker records passes through this store.
        self.stats = JobStats()

    def _announce(self, action: str, row: aiosqlite.Row | None) -> Job | None:
        """Publish a job's new state to live views; return the job."""
        if row is None:
            return None
        job = Job.from_row(row)
        if self._changes is not None:
            self._changes.publish(Topic.JOB, action, job.summary())
        return job

    async def enqueue_many(self, new_jobs: Sequence[NewJob]) -> list[Enqueued]:
        """Insert jobs in one transaction; a live job with the same key is returned instead."""
        now = time.time()
        results: list[Enqueued] = []
        async with self.db.transaction() as conn:
            for new in new_jobs:
                if new.idempotency_key is not None:
                    existing = await _fetch_one(
                        conn,
                        "SELECT * FROM jobs WHERE idempotency_key = ? AND state IN "
                        "('queued', 'running')",
                        (new.idempotency_key,),
                    )
                    if existing is not None:
                        results.append(Enqueued(Job.from_row(existing), created=False))
                        continue
                row = await _fetch_one(
                    conn,
                    "INSERT INTO jobs (type, args, priority, resource, idempotency_key,"
                    " max_attempts, run_at, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                    (
                        new.type,
                        json.dumps(new.args, separators=(",", ":")),
                        new.priority,
                        new.resource.value,
                        new.idempotency_key,
                        new.max_attempts,
                        new.run_at if new.run_at is not None else now,
                        now,
                        now,
                    ),
                )
                assert row is not None  # RETURNING always yields the inserted row
                results.append(Enqueued(Job.from_row(row), created=True))
        if self._changes is not None:
            for result in results:
                if result.created:
                    self._changes.publish(Topic.JOB, "created", result.job.summary())
        return results

    async def claim(self, resource: Resource, types: Collection[str], now: float) -> Job | None:
        """Mark the best due job of `resource` among `types` running, and return it."""
        if not types:
            return None
        marks = ",".join("?" * len(types))
        async with self.db.transaction() as conn:
            row = await _fetch_one(
                conn,
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?,"
                " updated_at = ?, progress_done = 0, progress_total = NULL,"
                " progress_message = NULL"
                " WHERE id = (SELECT id FROM jobs WHERE resource = ? AND state = 'queued'"
                f" AND run_at <= ? AND type IN ({marks})"
                " ORDER BY priority DESC, id LIMIT 1) RETURNING *",
                (now, now, resource.value, now, *types),
            )
        return self._announce("started", row)

    async def next_run_at(self, resource: Resource, types: Collection[str]) -> float | None:
        """Return when the next queued job of `resource` becomes due."""
        if not types:
            return None
        marks = ",".join("?" * len(types))
        row = await self.db.fetch_one(
            "SELECT MIN(run_at) AS t FROM jobs WHERE resource = ? AND state = 'queued'"
            f" AND type IN ({marks})",
            (resource.value, *types),
        )
        return None if row is None or row["t"] is None else float(row["t"])

    async def succeed(self, job_id: int) -> None:
        """Record success."""
        await self._finish(job_id, JobState.SUCCEEDED, None)

    async def fail(self, job_id: int, error: str) -> None:
        """Record a final failure (the dead-letter state)."""
        await self._finish(job_id, JobState.FAILED, error)

    async def mark_cancelled(self, job_id: int, reason: str | None = None) -> None:
        """Record that a running job stopped on request."""
        await self._finish(job_id, JobState.CANCELLED, reason)

    async def _finish(self, job_id: int, state: JobState, error: str | None) -> None:
        """Move a running job to a final state."""
        now = time.time()
        async with self.db.transaction() as conn:
            row = await _fetch_one(
                conn,
                "UPDATE jobs SET state = ?, last_error = COALESCE(?, last_error), finished_at = ?,"
                " updated_at = ? WHERE id = ? RETURNING *",
                (state.value, error, now, now, job_id),
            )
        job = self._announce(state.value, row)
        if job is not None:
            self.stats.record_end(job)

    async def schedule_retry(self, job_id: int, error: str, run_at: float) -> None:
        """Put a failed attempt back in the queue for later."""
        async with self.db.transaction() as conn:
            row = await _fetch_one(
                conn,
                "UPDATE jobs SET state = 'queued', last_error = ?, run_at = ?, started_at = NULL,"
                " updated_at = ? WHERE id = ? RETURNING *",
                (error, run_at, time.time(), job_id),
            )
        job = self._announce("retrying", row)
        if job is not None:
            self.stats.record_retry(job)

    async def release(
        self, job_ids: Collection[int], *, run_at: float | None = None, note: str | None = None
    ) -> None:
        """Requeue running jobs without counting the attempt (shutdown, an outage)."""
        now = time.time()
        rows = []
        async with self.db.transaction() as conn:
            for job_id in job_ids:
                row = await _fetch_one(
                    conn,
                    "UPDATE jobs SET state = 'queued', attempts = MAX(attempts - 1, 0),"
                    " run_at = ?, started_at = NULL, updated_at = ?,"
                    " last_error = COALESCE(?, last_error) WHERE id = ? AND state = 'running'"
                    " RETURNING *",
                    (now if run_at is None else run_at, now, note, job_id),
                )
                rows.append(row)
        for row in rows:
            self._announce("requeued", row)

    async def recover(self) -> Recovered:
        """Requeue jobs left running by a dead process.

        The interrupted attempt still counts: a job that crashes the process every
        time (a poison pill) ends failed after `max_attempts` instead of looping.
        """
        now = time.time()
        async with self.db.transaction() as conn:
            cancelled = await conn.execute(
                "UPDATE jobs SET state = 'cancelled', finished_at = ?, updated_at = ?"
                " WHERE state = 'running' AND cancel_requested = 1",
                (now, now),
            )
            failed = await conn.execute(
                "UPDATE jobs SET state = 'failed', finished_at = ?, updated_at = ?,"
                " last_error = 'interrupted ' || attempts || ' times: the daemon stopped while"
                " it ran' WHERE state = 'running' AND attempts >= max_attempts",
                (now, now),
            )
            requeued = await conn.execute(
                "UPDATE jobs SET state = 'queued', run_at = ?, started_at = NULL, updated_at = ?"
                " WHERE state = 'running'",
                (now, now),
            )
            return Recovered(requeued.rowcount, failed.rowcount, cancelled.rowcount)

    async def request_cancel(self, job_id: int) -> Job | None:
        """Cancel a queued job now, or flag a running one; return the job after the change."""
        now = time.time()
        async with self.db.transaction() as conn:
            row = await _fetch_one(
                conn,
                "UPDATE jobs"
                " SET state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END,"
                " finished_at = CASE WHEN state = 'queued' THEN ? ELSE finished_at END,"
                " cancel_requested = CASE WHEN state IN ('queued', 'running') THEN 1"
                " ELSE cancel_requested END, updated_at = ? WHERE id = ? RETURNING *",
                (now, now, job_id),
            )
        return self._announce("cancel_requested", row)

    async def retry(self, job_id: int) -> Job | None:
        """Queue a failed or cancelled job again with fresh attempts; return it."""
        now = time.time()
        async with self.db.transaction() as conn:
            job = await _fetch_one(conn, "SELECT * FROM jobs WHERE id = ?", (job_id,))
            if job is None or job["state"] not in ("failed", "cancelled"):
                return Job.from_row(job) if job is not None else None
            if job["idempotency_key"] is not None:
                live = await _fetch_one(
                    conn,
                    "SELECT * FROM jobs WHERE idempotency_key = ? AND state IN "
                    "('queued', 'running')",
                    (job["idempotency_key"],),
                )
                if live is not None:
                    return Job.from_row(live)
            row = await _fetch_one(
                conn,
                "UPDATE jobs SET state = 'queued', attempts = 0, run_at = ?, cancel_requested = 0,"
                " started_at = NULL, finished_at = NULL, updated_at = ? WHERE id = ? RETURNING *",
                (now, now, job_id),
            )
        return self._announce("queued", row)

    async def set_progress(
        self, job_id: int, done: int, total: int | None, message: str | None
    ) -> None:
        """Store the progress of a running job."""
        async with self.db.transaction() as conn:
            row = await _fetch_one(
                conn,
                "UPDATE jobs SET progress_done = ?, progress_total = ?, progress_message = ?,"
                " updated_at = ? WHERE id = ? RETURNING *",
                (done, total, message, time.time(), job_id),
            )
        self._announce("progress", row)

    async def fail_unknown_types(self, known: Collection[str]) -> int:
        """Fail queued jobs whose type no handler serves (e.g. after a downgrade)."""
        marks = ",".join("?" * len(known)) or "''"
        now = time.time()
        return await self.db.execute(
            "UPDATE jobs SET state = 'failed', finished_at = ?, updated_at = ?,"
            " last_error = 'no handler is registered for job type ' || type"
            f" WHERE state = 'queued' AND type NOT IN ({marks})",
            (now, now, *known),
        )

    async def prune(self, finished_before: float, failed_before: float) -> int:
        """Delete old succeeded/cancelled and old failed jobs; return how many."""
        return await self.db.execute(
            "DELETE FROM jobs WHERE (state IN ('succeeded', 'cancelled') AND finished_at < ?)"
            " OR (state = 'failed' AND finished_at < ?)",
            (finished_before, failed_before),
        )

    async def live_by_keys(self, keys: Collection[str]) -> list[Job]:
        """Return the queued or running jobs holding any of these idempotency keys."""
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        rows = await self.db.fetch_all(
            f"SELECT * FROM jobs WHERE idempotency_key IN ({marks})"
            " AND state IN ('queued', 'running')",
            tuple(keys),
        )
        return [Job.from_row(r) for r in rows]

    async def get(self, job_id: int) -> Job | None:
        """Return one job."""
        row = await self.db.fetch_one("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return Job.from_row(row) if row is not None else None

    async def list(
        self,
        *,
        states: Collection[JobState] = (),
        types: Collection[str] = (),
        limit: int = 50,
        offset: int = 0,
    ) -> JobPage:
        """List jobs newest first, filtered by state and type."""
        where, params = _filters(states, types)
        total_row = await self.db.fetch_one(f"SELECT COUNT(*) AS n FROM jobs{where}", params)
        rows = await self.db.fetch_all(
            f"SELECT * FROM jobs{where} ORDER BY id DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return JobPage([Job.from_row(r) for r in rows], int(total_row["n"]) if total_row else 0)

    async def counts(self) -> dict[JobState, int]:
        """Count jobs per state (every state present, zero when none)."""
        rows = await self.db.fetch_all("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
        counts = dict.fromkeys(JobState, 0)
        for row in rows:
            counts[JobState(row["state"])] = row["n"]
        return counts

    async def counts_by_type(self) -> dict[str, dict[JobState, int]]:
        """Count jobs per type and state (every state present for each type seen)."""
        rows = await self.db.fetch_all(
            "SELECT type, state, COUNT(*) AS n FROM jobs GROUP BY type, state"
        )
        counts: dict[str, dict[JobState, int]] = {}
        for row in rows:
            counts.setdefault(row["type"], dict.fromkeys(JobState, 0))[JobState(row["state"])] = (
                row["n"]
            )
        return counts

    async def head_due(self, now: float) -> dict[Resource, float]:
        """Return, per resource, since when the next due job in line has been due."""
        # The claim's own order on its index: one seek per pool, however long the queue.
        heads: dict[Resource, float] = {}
        for resource in Resource:
            row = await self.db.fetch_one(
                "SELECT run_at FROM jobs WHERE resource = ? AND state = 'queued' AND run_at <= ?"
                " ORDER BY priority DESC, id LIMIT 1",
                (resource.value, now),
            )
            if row is not None:
                heads[resource] = float(row["run_at"])
        return heads

    async def mean_duration(self, job_type: str, recent: int) -> float | None:
        """Return the mean run time of the last `recent` succeeded jobs of a type, if any."""
        # The (state, type) index walks the newest ids first: no scan of old jobs.
        row = await self.db.fetch_one(
            "SELECT AVG(finished_at - started_at) AS mean FROM (SELECT started_at, finished_at"
            " FROM jobs WHERE state = 'succeeded' AND type = ? AND started_at IS NOT NULL"
            " AND finished_at IS NOT NULL ORDER BY id DESC LIMIT ?)",
            (job_type, recent),
        )
        return None if row is None or row["mean"] is None else max(float(row["mean"]), 0.0)


def _filters(states: Collection[JobState], types: Collection[str]) -> tuple[str, list[Any]]:
    """Build a WHERE clause for state and type filters."""
    clauses: list[str] = []
    params: list[Any] = []
    if states:
        clauses.append(f"state IN ({','.join('?' * len(states))})")
        params.extend(s.value for s in states)
    if types:
        clauses.append(f"type IN ({','.join('?' * len(types))})")
        params.extend(types)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


async def _fetch_one(
    conn: aiosqlite.Connection, sql: str, params: Sequence[Any]
) -> aiosqlite.Row | None:
    """Run a statement on a transaction's connection and return its first row."""
    async with conn.execute(sql, params) as cursor:
        row = await cursor.fetchone()
    return row
