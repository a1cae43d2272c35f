"""Review queue paging: one page of 50 among 10,000 pending items, as the review page asks.

Baseline, run side by side on a copy of the same database: the listing as it was before
migration 0011 (every matching row, payload included, sorted for each page). Subject:
`ReviewStore.list` today (the page's ids read from an index, then only their rows).

    python bench/review_paging.py [--items 10000] [--repeat 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from stash_sense.review import ItemFilter, ItemSort, ReviewState
from stash_sense.review.store import ReviewStore
from stash_sense.store import Database

PAGE = 50
OLD_ORDER = {
    ItemSort.DATE_DESC: "created_at DESC, id DESC",
    ItemSort.CONFIDENCE_DESC: "confidence IS NULL, confidence DESC, id DESC",
}
# About the size of a face suggestion with a few alternatives and crops.
PAYLOAD = json.dumps({"name": "Performer", "crop_ids": list(range(12)), "notes": ["x" * 80] * 8})


async def fill(path: Path, items: int) -> None:
    """Create a database with `items` pending items and a fifth as many decided ones."""
    db = Database(path)
    await db.open()
    now = time.time()
    rows = [
        (
            "performer_suggestion",
            n % 3000 + 1,
            f"s{n}",
            "pending" if n < items else "rejected",
            None if n % 7 == 0 else (n * 7919 % 1000) / 1000,
            PAYLOAD,
            now - n,
            now - n,
        )
        for n in range(items + items // 5)
    ]
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO review_items (kind, scene_id, subject, state, confidence, payload,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    await db.close()


async def old_listing(db: Database, sort: ItemSort, offset: int) -> None:
    """The listing before migration 0011: count, then sort the full rows."""
    await db.fetch_one("SELECT COUNT(*) FROM review_items WHERE state IN (?)", ("pending",))
    await db.fetch_all(
        f"SELECT * FROM review_items WHERE state IN (?) ORDER BY {OLD_ORDER[sort]}"
        " LIMIT ? OFFSET ?",
        ("pending", PAGE, offset),
    )


async def measure(path: Path, repeat: int, *, baseline: bool) -> dict[str, float]:
    """Median milliseconds per page, by sort and offset."""
    db = Database(path)
    await db.open()
    store = ReviewStore(db)
    pending = ItemFilter(states=(ReviewState.PENDING,))
    figures = {}
    for sort in OLD_ORDER:
        for offset in (0, 5000):
            samples = []
            for _ in range(repeat):
                start = time.perf_counter()
                if baseline:
                    await old_listing(db, sort, offset)
                else:
                    await store.list(pending, sort=sort, limit=PAGE, offset=offset)
                samples.append((time.perf_counter() - start) * 1000)
            figures[f"{sort.value} offset {offset}"] = statistics.median(samples)
    await db.close()
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subject = Path(tmp) / "review.db"
        await fill(subject, args.items)
        baseline = Path(tmp) / "before-0011.db"
        shutil.copy(subject, baseline)
        db = Database(baseline)
        await db.open()
        for name in ("state_date", "state_confidence", "state_confidence_desc"):
            await db.execute(f"DROP INDEX review_items_{name}")
        await db.close()
        old = await measure(baseline, args.repeat, baseline=True)
        new = await measure(subject, args.repeat, baseline=False)
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"{'page':<24}{'before 0011 (ms)':>18}{'now (ms)':>12}{'ratio':>8}")
    for key, before in old.items():
        print(f"{key:<24}{before:>18.1f}{new[key]:>12.1f}{before / new[key]:>8.1f}")


if __name__ == "__main__":
    asyncio.run(main())
