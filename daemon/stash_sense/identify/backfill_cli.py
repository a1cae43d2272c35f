"""`stash-sense backfill`: queue the backfill job from the command line."""

from __future__ import annotations

import asyncio
import sys

from stash_sense.config import Config
from stash_sense.daemon import DB_FILE, data_dir
from stash_sense.identify.backfill import BACKFILL, PRIORITY, RESOURCE, BackfillArgs
from stash_sense.queue import Job, JobStore
from stash_sense.queue.store import NewJob
from stash_sense.store import Database, StoreError

_POLL_SECONDS = 1.0


async def enqueue_backfill(config: Config, *, wait: bool) -> int:
    """Queue the backfill job (once) and optionally follow it; return the exit code."""
    db = Database(data_dir(config) / DB_FILE, busy_timeout_ms=config.store.busy_timeout_ms)
    try:
        await db.open()
    except StoreError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    try:
        store = JobStore(db)
        (result,) = await store.enqueue_many(
            [
                NewJob(
                    type=BACKFILL,
                    args={"priority": BackfillArgs().priority},
                    resource=RESOURCE,
                    priority=PRIORITY,
                    max_attempts=config.queue.max_attempts,
                    idempotency_key=BACKFILL,
                )
            ]
        )
        job = result.job
        verb = "Queued" if result.created else "Already queued"
        print(f"{verb} backfill as job {job.id}; follow it at GET /api/v1/jobs/{job.id}")
        if not wait:
            return 0
        final = await _follow(store, job)
        return 0 if final.state.value == "succeeded" else 1
    finally:
        await db.close(checkpoint=False)


async def _follow(store: JobStore, job: Job) -> Job:
    """Print a progress line until the job finishes (the daemon must be running)."""
    while True:
        current = await store.get(job.id) or job
        progress = current.progress
        total = progress.total or 0
        width = 30
        filled = int(width * progress.done / total) if total else 0
        bar = "#" * filled + "-" * (width - filled)
        print(
            f"\r[{bar}] {progress.done}/{total or '?'} {progress.message or current.state}",
            end="",
            flush=True,
        )
        if not current.state.live:
            print()
            if current.last_error:
                print(f"{current.state}: {current.last_error}", file=sys.stderr)
            return current
        await asyncio.sleep(_POLL_SECONDS)
