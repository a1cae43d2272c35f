"""Paging the review queue among 10,000 pending items: every order reads from an index."""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from stash_sense.review import ItemFilter, ItemSort, ReviewQueue, ReviewState
from stash_sense.review.store import page_query
from stash_sense.store import Database

from .kinds import Kinds

PENDING = 10_000


@pytest.fixture
async def crowded(tmp_path: Path) -> AsyncIterator[ReviewQueue]:
    """A queue with 10,000 pending items and some decided ones, inserted in one go."""
    db = Database(tmp_path / "review.db")
    await db.open()
    rng = random.Random(7)
    now = time.time()
    rows = []
    for i in range(PENDING + 2_000):
        state = "pending" if i < PENDING else rng.choice(["accepted", "rejected"])
        # Every seventh item has no confidence: those sort last in both directions.
        confidence = None if i % 7 == 0 else round(rng.random(), 3)
        kind = "test_tag" if i % 3 else "test_delete"
        payload = '{"tag": "blonde", "score": 0.5}' if kind == "test_tag" else '{"file_ids": [1]}'
        rows.append((kind, i % 900 + 1, f"s{i}", state, confidence, payload, now - i, now - i))
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO review_items (kind, scene_id, subject, state, confidence, payload,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    queue = ReviewQueue(db)
    kinds = Kinds()
    for kind in (kinds.tag, kinds.delete):
        queue.register(kind)
    yield queue
    await db.close()


@pytest.mark.parametrize("sort", list(ItemSort))
async def test_each_order_of_pending_items_reads_its_page_from_an_index(
    crowded: ReviewQueue, sort: ItemSort
) -> None:
    pending = ItemFilter(states=(ReviewState.PENDING,))
    sql, params = page_query(pending, sort, 50, 5_000)
    plan = [r[3] for r in await crowded.store.db.fetch_all("EXPLAIN QUERY PLAN " + sql, params)]
    assert not any("TEMP B-TREE" in step for step in plan), plan
    assert any("COVERING INDEX" in step for step in plan), plan


async def test_pages_follow_the_order_with_unknown_confidences_last(
    crowded: ReviewQueue,
) -> None:
    pending = ItemFilter(states=(ReviewState.PENDING,))
    for sort, reverse in ((ItemSort.CONFIDENCE, False), (ItemSort.CONFIDENCE_DESC, True)):
        seen = []
        for offset in range(0, PENDING, 500):
            page = await crowded.list(pending, sort=sort, limit=500, offset=offset)
            assert page.total == PENDING
            seen.extend(page.items)
        assert len({i.id for i in seen}) == PENDING
        known = [i for i in seen if i.confidence is not None]
        assert [i.confidence for i in seen[: len(known)]] == [i.confidence for i in known]
        assert all(i.confidence is None for i in seen[len(known) :])
        keys = [(i.confidence, i.id) for i in known]
        assert keys == sorted(keys, reverse=reverse)
        unknown_ids = [i.id for i in seen[len(known) :]]
        assert unknown_ids == sorted(unknown_ids, reverse=reverse)


async def test_a_filtered_page_matches_the_filter_in_order(crowded: ReviewQueue) -> None:
    wanted = ItemFilter(kinds=("test_delete",), states=(ReviewState.PENDING,), min_confidence=0.5)
    page = await crowded.list(wanted, sort=ItemSort.DATE_DESC, limit=50, offset=100)
    assert len(page.items) == 50
    assert all(i.kind == "test_delete" and (i.confidence or 0) >= 0.5 for i in page.items)
    dates = [(i.created_at, i.id) for i in page.items]
    assert dates == sorted(dates, reverse=True)
    everything = await crowded.list(wanted, sort=ItemSort.DATE_DESC, limit=500, offset=0)
    assert [i.id for i in page.items] == [i.id for i in everything.items[100:150]]
