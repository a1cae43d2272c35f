"""The change hub: ordered delivery, a stalled subscriber never stalls a publisher."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from pathlib import Path

import pytest

from stash_sense.changes import Change, ChangeHub, Resync, Topic
from stash_sense.queue import JobContext, JobQueue, JobRegistry, JobStore, JobType, Resource
from stash_sense.review import ReviewQueue
from stash_sense.store import Database
from tests.queue.conftest import fast_config
from tests.review.kinds import TagKind, tag


async def test_changes_arrive_in_publish_order_filtered_by_topic() -> None:
    hub = ChangeHub()
    jobs = hub.subscribe([Topic.JOB])
    everything = hub.subscribe()
    for n in range(5):
        hub.publish(Topic.JOB, "progress", {"n": n})
        hub.publish(Topic.REVIEW, "created", {"n": n})
    got = [await jobs.next() for _ in range(5)]
    assert [c.data["n"] for c in got if isinstance(c, Change)] == [0, 1, 2, 3, 4]
    assert all(isinstance(c, Change) and c.topic is Topic.JOB for c in got)
    seen = [await everything.next() for _ in range(10)]
    seqs = [c.seq for c in seen if isinstance(c, Change)]
    assert seqs == sorted(seqs) and len(seqs) == 10


async def test_a_stalled_subscriber_gets_a_resync_and_never_blocks_publishing() -> None:
    hub = ChangeHub()
    stalled = hub.subscribe(limit=10)
    live = hub.subscribe(limit=10_000)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for n in range(5_000):
        hub.publish(Topic.JOB, "progress", {"n": n})
    # 5,000 publishes with a subscriber that reads nothing take no waiting at all.
    assert loop.time() - started < 1.0
    first = await stalled.next()
    assert isinstance(first, Resync)
    # After the resync the subscriber follows live again.
    hub.publish(Topic.JOB, "progress", {"n": "after"})
    items = []
    while True:
        item = await asyncio.wait_for(stalled.next(), 1)
        assert isinstance(item, Change)
        items.append(item)
        if item.data["n"] == "after":
            break
    assert len(items) <= 10
    # The live subscriber lost nothing.
    received = [await live.next() for _ in range(5_001)]
    assert [c.data["n"] for c in received if isinstance(c, Change)][:3] == [0, 1, 2]
    assert not any(isinstance(c, Resync) for c in received)


async def test_close_ends_waiting_subscribers_and_ignores_later_publishes() -> None:
    hub = ChangeHub()
    subscription = hub.subscribe()
    waiter = asyncio.create_task(subscription.next())
    await asyncio.sleep(0)
    hub.close()
    assert await asyncio.wait_for(waiter, 1) is None
    hub.publish(Topic.JOB, "progress", {})
    assert hub.subscribers == 0
    late = hub.subscribe()
    assert await late.next() is None


async def test_iteration_stops_when_the_subscription_closes() -> None:
    hub = ChangeHub()
    subscription = hub.subscribe()
    hub.publish(Topic.WRITE, "applied", {"id": 1})
    got = []

    async def read() -> None:
        async for item in subscription:
            got.append(item)
            subscription.close()

    await asyncio.wait_for(read(), 1)
    assert len(got) == 1 and hub.subscribers == 0


@dataclass(frozen=True)
class Steps:
    steps: int


async def test_job_progress_reaches_a_subscriber_in_order(tmp_path: Path) -> None:
    db = Database(tmp_path / "stash_sense.db")
    await db.open()
    hub = ChangeHub()
    subscription = hub.subscribe([Topic.JOB])
    registry = JobRegistry()

    async def handler(context: JobContext, args: Steps) -> None:
        for step in range(args.steps):
            await context.progress(step + 1, args.steps, f"step {step + 1}")

    job_type = JobType("test.steps", Steps, handler, resource=Resource.CPU)
    registry.register(job_type)
    queue = JobQueue(JobStore(db, hub), registry, fast_config(), rng=random.Random(1))
    await queue.start()
    try:
        enqueued = await queue.enqueue(job_type, Steps(3))
        actions = []
        while not actions or actions[-1][0] != "succeeded":
            change = await asyncio.wait_for(subscription.next(), 5)
            assert isinstance(change, Change)
            assert change.data["id"] == enqueued.job.id
            actions.append((change.action, change.data["progress"]["done"]))
    finally:
        await queue.stop(grace_seconds=0.5)
        await db.close()
    assert actions == [
        ("created", 0),
        ("started", 0),
        ("progress", 1),
        ("progress", 2),
        ("progress", 3),
        ("succeeded", 3),
    ]


async def test_review_changes_reach_a_subscriber(tmp_path: Path) -> None:
    db = Database(tmp_path / "stash_sense.db")
    await db.open()
    hub = ChangeHub()
    subscription = hub.subscribe([Topic.REVIEW])
    review = ReviewQueue(db, changes=hub)
    review.register(TagKind())
    try:
        created = await review.upsert("test_tag", scene_id=4, subject="a", payload=tag())
        await review.reject(created.item.id)
        got = [await asyncio.wait_for(subscription.next(), 1) for _ in range(2)]
    finally:
        await db.close()
    assert [(c.action, c.data["state"]) for c in got if isinstance(c, Change)] == [
        ("created", "pending"),
        ("rejected", "rejected"),
    ]
    assert all(isinstance(c, Change) and c.data["id"] == created.item.id for c in got)


@pytest.mark.parametrize("limit", [1, 3])
async def test_resync_reports_the_last_lost_sequence(limit: int) -> None:
    hub = ChangeHub()
    subscription = hub.subscribe(limit=limit)
    for n in range(limit + 1):
        hub.publish(Topic.JOB, "progress", {"n": n})
    marker = await subscription.next()
    assert isinstance(marker, Resync) and marker.seq == limit + 1
