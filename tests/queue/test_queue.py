"""The durable job queue against a real SQLite file."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import defaultdict
from dataclasses import dataclass

import pytest

from stash_sense.queue import (
    Capability,
    JobContext,
    JobQueue,
    JobRegistry,
    JobState,
    JobStore,
    JobType,
    PermanentJobError,
    Priority,
    Request,
    Resource,
)
from stash_sense.queue.backoff import retry_delay
from stash_sense.queue.maintenance import JobPruner, PruneJobsArgs
from stash_sense.queue.store import NewJob

from .conftest import fast_config


@dataclass(frozen=True)
class Args:
    name: str
    seconds: float = 0.0


async def wait_for_state(
    store: JobStore, job_id: int, *states: JobState, timeout: float = 5.0
) -> JobState:
    """Poll the store until the job reaches one of `states`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = await store.get(job_id)
        assert job is not None
        if job.state in states:
            return job.state
        await asyncio.sleep(0.01)
    job = await store.get(job_id)
    raise AssertionError(f"job {job_id} stuck in {job.state if job else None}")


def recorder(
    registry: JobRegistry,
    name: str = "test.record",
    resource: Resource = Resource.CPU,
    **kw: object,
) -> tuple[JobType[Args], list[str]]:
    """Register a job type that records the order in which jobs ran."""
    seen: list[str] = []

    async def handler(ctx: JobContext, args: Args) -> None:
        seen.append(args.name)
        await asyncio.sleep(args.seconds)

    job_type: JobType[Args] = JobType(name, Args, handler, resource=resource, **kw)  # type: ignore[arg-type]
    registry.register(job_type)
    return job_type, seen


async def test_idempotent_enqueue(queue: JobQueue, registry: JobRegistry) -> None:
    job_type, seen = recorder(registry)
    first = await queue.enqueue(job_type, Args("a"), idempotency_key="scene:1")
    again = await queue.enqueue(job_type, Args("a-again"), idempotency_key="scene:1")
    other = await queue.enqueue(job_type, Args("b"), idempotency_key="scene:2")
    assert first.created and not again.created and other.created
    assert again.job.id == first.job.id
    assert again.job.args == {"name": "a", "seconds": 0.0}

    await queue.start()
    await wait_for_state(queue.store, first.job.id, JobState.SUCCEEDED)
    await wait_for_state(queue.store, other.job.id, JobState.SUCCEEDED)
    assert sorted(seen) == ["a", "b"]
    # Once finished, the key is free again: new work for the scene is accepted.
    later = await queue.enqueue(job_type, Args("a2"), idempotency_key="scene:1")
    assert later.created and later.job.id != first.job.id


async def test_batch_enqueue_dedupes_within_the_batch(
    queue: JobQueue, registry: JobRegistry
) -> None:
    job_type, _ = recorder(registry)
    requests = [
        Request(job_type, Args(str(i % 10)), idempotency_key=f"k{i % 10}") for i in range(100)
    ]
    results = await queue.enqueue_many(requests)
    assert sum(r.created for r in results) == 10
    page = await queue.store.list()
    assert page.total == 10


async def test_priority_then_oldest(queue: JobQueue, registry: JobRegistry) -> None:
    job_type, seen = recorder(registry)
    for name, prio in [
        ("low1", Priority.LOW),
        ("n1", Priority.NORMAL),
        ("high1", Priority.HIGH),
        ("n2", Priority.NORMAL),
        ("high2", Priority.HIGH),
        ("low2", Priority.LOW),
    ]:
        await queue.enqueue(job_type, Args(name), priority=prio)
    await queue.start()
    deadline = time.monotonic() + 5
    while len(seen) < 6 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert seen == ["high1", "high2", "n1", "n2", "low1", "low2"]


async def test_concurrency_per_resource_class(store: JobStore, registry: JobRegistry) -> None:
    active: dict[Resource, int] = defaultdict(int)
    peak: dict[Resource, int] = defaultdict(int)

    def make(resource: Resource) -> JobType[Args]:
        async def handler(ctx: JobContext, args: Args) -> None:
            active[resource] += 1
            peak[resource] = max(peak[resource], active[resource])
            await asyncio.sleep(0.05)
            active[resource] -= 1

        job_type: JobType[Args] = JobType(
            f"test.{resource.value}", Args, handler, resource=resource
        )
        registry.register(job_type)
        return job_type

    types = {r: make(r) for r in Resource}
    queue = JobQueue(store, registry, fast_config())
    await queue.enqueue_many(
        [Request(types[r], Args(f"{r}{i}")) for r in Resource for i in range(6)]
    )
    await queue.start()
    try:
        page = await store.list()
        for job in page.jobs:
            await wait_for_state(store, job.id, JobState.SUCCEEDED)
    finally:
        await queue.stop()
    assert peak == {Resource.GPU: 1, Resource.CPU: 1, Resource.IO: 2}


async def test_retry_with_backoff_then_dead_letter(queue: JobQueue, registry: JobRegistry) -> None:
    attempts: list[float] = []

    async def flaky(ctx: JobContext, args: Args) -> None:
        attempts.append(time.monotonic())
        raise ConnectionError(f"stash down (attempt {ctx.job.attempts})")

    job_type: JobType[Args] = JobType("test.flaky", Args, flaky)
    registry.register(job_type)
    job = (await queue.enqueue(job_type, Args("x"))).job
    await queue.start()
    await wait_for_state(queue.store, job.id, JobState.FAILED)
    final = await queue.store.get(job.id)
    assert final is not None
    assert final.attempts == 3 == len(attempts)
    assert final.last_error == "ConnectionError: stash down (attempt 3)"
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    # Retry 1 waits >= base/2, retry 2 waits >= base (the ceiling doubles).
    assert gaps[0] >= 0.025
    assert gaps[1] >= 0.05


async def test_retry_then_success(queue: JobQueue, registry: JobRegistry) -> None:
    async def second_time_lucky(ctx: JobContext, args: Args) -> None:
        if ctx.job.attempts < 2:
            raise TimeoutError("slow stash")

    job_type: JobType[Args] = JobType("test.lucky", Args, second_time_lucky)
    registry.register(job_type)
    job = (await queue.enqueue(job_type, Args("x"))).job
    await queue.start()
    await wait_for_state(queue.store, job.id, JobState.SUCCEEDED)
    final = await queue.store.get(job.id)
    assert final is not None
    assert final.attempts == 2
    assert final.last_error == "TimeoutError: slow stash"  # kept for the record


async def test_permanent_failure_fails_at_once(queue: JobQueue, registry: JobRegistry) -> None:
    async def bad_input(ctx: JobContext, args: Args) -> None:
        raise PermanentJobError("video file is corrupt")

    job_type: JobType[Args] = JobType("test.bad", Args, bad_input)
    registry.register(job_type)
    job = (await queue.enqueue(job_type, Args("x"))).job
    await queue.start()
    await wait_for_state(queue.store, job.id, JobState.FAILED)
    final = await queue.store.get(job.id)
    assert final is not None
    assert (final.attempts, final.last_error) == (1, "video file is corrupt")


async def test_bad_arguments_fail_permanently(
    queue: JobQueue, registry: JobRegistry, store: JobStore
) -> None:
    _job_type, seen = recorder(registry)
    (bad,) = await store.enqueue_many(
        [
            NewJob("test.record", {"name": 5}, Resource.CPU, 0, 3),
        ]
    )
    (extra,) = await store.enqueue_many(
        [NewJob("test.record", {"name": "x", "surprise": 1}, Resource.CPU, 0, 3)]
    )
    await queue.start()
    for job in (bad.job, extra.job):
        await wait_for_state(store, job.id, JobState.FAILED)
    failed = await store.get(bad.job.id)
    assert failed is not None and failed.attempts == 1
    assert "name must be str" in (failed.last_error or "")
    assert seen == []


async def test_cancel_queued(queue: JobQueue, registry: JobRegistry) -> None:
    job_type, seen = recorder(registry)
    job = (await queue.enqueue(job_type, Args("never"))).job
    cancelled = await queue.cancel(job.id)
    assert cancelled is not None and cancelled.state is JobState.CANCELLED
    await queue.start()
    marker = (await queue.enqueue(job_type, Args("after"))).job
    await wait_for_state(queue.store, marker.id, JobState.SUCCEEDED)
    assert seen == ["after"]


async def test_cancel_running_between_steps(queue: JobQueue, registry: JobRegistry) -> None:
    steps: list[int] = []
    started = asyncio.Event()

    async def long_job(ctx: JobContext, args: Args) -> None:
        for step in range(1000):
            ctx.check_cancelled()
            steps.append(step)
            await ctx.progress(step, 1000, "working")
            started.set()
            await asyncio.sleep(0.01)

    job_type: JobType[Args] = JobType("test.long", Args, long_job)
    registry.register(job_type)
    job = (await queue.enqueue(job_type, Args("x"))).job
    await queue.start()
    await asyncio.wait_for(started.wait(), 5)
    flagged = await queue.cancel(job.id)
    assert flagged is not None and flagged.state is JobState.RUNNING and flagged.cancel_requested
    await wait_for_state(queue.store, job.id, JobState.CANCELLED)
    assert len(steps) < 1000
    final = await queue.store.get(job.id)
    assert (
        final is not None and final.progress.total == 1000 and final.progress.message == "working"
    )


async def test_retry_route_logic(queue: JobQueue, registry: JobRegistry) -> None:
    async def bad(ctx: JobContext, args: Args) -> None:
        if args.name == "fail":
            raise PermanentJobError("nope")

    job_type: JobType[Args] = JobType("test.retry", Args, bad)
    registry.register(job_type)
    job = (await queue.enqueue(job_type, Args("fail"))).job
    await queue.start()
    await wait_for_state(queue.store, job.id, JobState.FAILED)
    again = await queue.retry(job.id)
    assert again is not None and again.state is JobState.QUEUED and again.attempts == 0
    await wait_for_state(queue.store, job.id, JobState.FAILED)
    final = await queue.store.get(job.id)
    assert final is not None and final.attempts == 1


async def test_graceful_stop_finishes_short_and_requeues_long(
    store: JobStore, registry: JobRegistry
) -> None:
    job_type, seen = recorder(registry, resource=Resource.IO)
    queue = JobQueue(store, registry, fast_config())
    short = (await queue.enqueue(job_type, Args("short", 0.2))).job
    long = (await queue.enqueue(job_type, Args("long", 30))).job
    await queue.start()
    while len(seen) < 2:
        await asyncio.sleep(0.01)
    began = time.monotonic()
    await queue.stop(grace_seconds=0.5)
    assert time.monotonic() - began < 3
    done = await store.get(short.id)
    back = await store.get(long.id)
    assert done is not None and done.state is JobState.SUCCEEDED
    assert back is not None and back.state is JobState.QUEUED
    assert back.attempts == 0  # an interrupted shutdown is not a failed attempt


async def test_recover_requeues_and_stops_poison_pills(store: JobStore) -> None:
    results = await store.enqueue_many(
        [NewJob("t", {}, Resource.CPU, 0, max_attempts=3) for _ in range(3)]
    )
    for _ in range(3):  # three claims: the third job reaches max attempts
        await store.claim(Resource.CPU, ["t"], time.time())
    await store.db.execute("UPDATE jobs SET attempts = 3 WHERE id = ?", (results[2].job.id,))
    await store.db.execute(
        "UPDATE jobs SET cancel_requested = 1 WHERE id = ?", (results[1].job.id,)
    )
    recovered = await store.recover()
    assert (recovered.requeued, recovered.failed, recovered.cancelled) == (1, 1, 1)
    states = [(await store.get(r.job.id)).state for r in results]  # type: ignore[union-attr]
    assert states == [JobState.QUEUED, JobState.CANCELLED, JobState.FAILED]


async def test_capability_gate(queue: JobQueue, registry: JobRegistry) -> None:
    job_type, seen = recorder(registry, requires=frozenset({Capability.STASH}))
    job = (await queue.enqueue(job_type, Args("needs-stash"))).job
    await queue.start()
    await asyncio.sleep(0.2)
    assert seen == []
    queue.set_capability(Capability.STASH, True)
    await wait_for_state(queue.store, job.id, JobState.SUCCEEDED)


async def test_unknown_types_fail_at_start(queue: JobQueue, store: JobStore) -> None:
    (orphan,) = await store.enqueue_many([NewJob("gone.type", {}, Resource.CPU, 0, 3)])
    await queue.start()
    job = await store.get(orphan.job.id)
    assert job is not None and job.state is JobState.FAILED
    assert job.last_error == "no handler is registered for job type gone.type"


async def test_timeout(queue: JobQueue, registry: JobRegistry) -> None:
    async def hang(ctx: JobContext, args: Args) -> None:
        await asyncio.sleep(10)

    job_type: JobType[Args] = JobType("test.hang", Args, hang, timeout_seconds=0.05, max_attempts=1)
    registry.register(job_type)
    job = (await queue.enqueue(job_type, Args("x"))).job
    await queue.start()
    await wait_for_state(queue.store, job.id, JobState.FAILED)
    final = await queue.store.get(job.id)
    assert final is not None and final.last_error == "TimeoutError: timed out after 0.05s"


async def test_delayed_job_waits(queue: JobQueue, registry: JobRegistry) -> None:
    job_type, seen = recorder(registry)
    job = (await queue.enqueue(job_type, Args("later"), delay_seconds=0.3)).job
    await queue.start()
    await asyncio.sleep(0.15)
    assert seen == []
    await wait_for_state(queue.store, job.id, JobState.SUCCEEDED)


async def test_prune_job_end_to_end(
    queue: JobQueue, registry: JobRegistry, store: JobStore
) -> None:
    pruner = JobPruner(store, fast_config(keep_finished_days=1, keep_failed_days=2))
    prune_type = pruner.job_type()
    registry.register(prune_type)
    old = [r.job.id for r in await store.enqueue_many([NewJob("t", {}, Resource.CPU, 0, 3)] * 4)]
    day = 86_400
    now = time.time()
    for job_id, state, age in zip(
        old,
        ["succeeded", "failed", "failed", "queued"],
        [2 * day, 1.5 * day, 3 * day, 9 * day],
        strict=True,
    ):
        await store.db.execute(
            "UPDATE jobs SET state = ?, finished_at = ? WHERE id = ?", (state, now - age, job_id)
        )
    job = (await queue.enqueue(prune_type, PruneJobsArgs())).job
    await queue.start()
    await wait_for_state(store, job.id, JobState.SUCCEEDED)
    remaining = {j.id for j in (await store.list(limit=100)).jobs}
    # The old success and the very old failure go; the younger failure and live job stay.
    assert remaining == {old[1], old[3], job.id}
    done = await store.get(job.id)
    assert done is not None and done.progress.message == "deleted 2 jobs"


def test_retry_delay_bounds() -> None:
    rng = random.Random(1)
    for attempt in range(1, 12):
        ceiling = min(100.0, 2.0 * 2 ** (attempt - 1))
        for _ in range(50):
            delay = retry_delay(attempt, 2.0, 100.0, rng)
            assert ceiling / 2 <= delay <= ceiling
    delays = {round(retry_delay(3, 2.0, 100.0, rng), 6) for _ in range(20)}
    assert len(delays) > 10  # jitter actually spreads retries


def test_registry_rejects_duplicates() -> None:
    registry = JobRegistry()
    recorder(registry)
    with pytest.raises(ValueError, match="already registered"):
        recorder(registry)
