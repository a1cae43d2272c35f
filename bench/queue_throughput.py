"""Queue throughput: jobs/s through enqueue -> run -> finish with a no-op handler.

Baseline, run side by side: the same three SQL steps per job (insert, claim, finish)
issued directly on one aiosqlite connection, with no queue machinery. The ratio shows
what the queue's bookkeeping (idempotency checks, workers, wake-ups) costs.

    python bench/queue_throughput.py [--jobs 2000] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from stash_sense.config import QueueConfig
from stash_sense.config.model import ConcurrencyConfig
from stash_sense.queue import (
    JobContext,
    JobQueue,
    JobRegistry,
    JobState,
    JobStore,
    JobType,
    Request,
    Resource,
)
from stash_sense.store import Database


@dataclass(frozen=True)
class NoArgs:
    """No arguments."""


async def run_queue(path: Path, jobs: int, workers: int, *, batch: bool) -> float:
    """Push `jobs` no-op jobs through the real queue; return jobs per second."""
    db = Database(path)
    await db.open()
    registry = JobRegistry()
    done = asyncio.Event()
    finished = 0

    async def handler(ctx: JobContext, args: NoArgs) -> None:
        nonlocal finished
        finished += 1

    job_type = JobType("bench.noop", NoArgs, handler, resource=Resource.IO)
    registry.register(job_type)
    config = QueueConfig(poll_interval_seconds=0.05, concurrency=ConcurrencyConfig(io=workers))
    queue = JobQueue(JobStore(db), registry, config)
    await queue.start()
    began = time.perf_counter()
    if batch:
        await queue.enqueue_many(
            [Request(job_type, NoArgs(), idempotency_key=f"k{i}") for i in range(jobs)]
        )
    else:
        for i in range(jobs):
            await queue.enqueue(job_type, NoArgs(), idempotency_key=f"k{i}")
    while True:
        counts = await queue.store.counts()
        if counts[JobState.SUCCEEDED] == jobs:
            break
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - began
    done.set()
    await queue.stop()
    await db.close()
    return jobs / elapsed


async def run_baseline(path: Path, jobs: int) -> float:
    """Do the same three statements per job on one connection; return jobs per second."""
    conn = await aiosqlite.connect(path, isolation_level=None)
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA synchronous=NORMAL")
    await conn.execute(
        "CREATE TABLE jobs (id INTEGER PRIMARY KEY, state TEXT, args TEXT, created REAL)"
    )
    began = time.perf_counter()
    for _ in range(jobs):
        cursor = await conn.execute(
            "INSERT INTO jobs (state, args, created) VALUES ('queued', '{}', ?)", (time.time(),)
        )
        job_id = cursor.lastrowid
        await conn.execute("UPDATE jobs SET state = 'running' WHERE id = ?", (job_id,))
        await conn.execute("UPDATE jobs SET state = 'succeeded' WHERE id = ?", (job_id,))
    elapsed = time.perf_counter() - began
    await conn.close()
    return jobs / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = await run_baseline(Path(tmp) / "baseline.db", args.jobs)
        one = await run_queue(Path(tmp) / "one.db", args.jobs, args.workers, batch=False)
        many = await run_queue(Path(tmp) / "many.db", args.jobs, args.workers, batch=True)
    print(f"Machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"Python: {sys.version.split()[0]}")
    print(f"Command: python bench/queue_throughput.py --jobs {args.jobs} --workers {args.workers}")
    print()
    print("| run | jobs/s | ratio to baseline |")
    print("|---|---:|---:|")
    print(f"| baseline: 3 bare SQL statements per job | {base:,.0f} | 1.00 |")
    print(f"| queue, enqueue one by one | {one:,.0f} | {one / base:.2f} |")
    print(f"| queue, enqueue_many (one transaction) | {many:,.0f} | {many / base:.2f} |")


if __name__ == "__main__":
    asyncio.run(main())
