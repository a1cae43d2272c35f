"""The first start against a library: count the scenes never identified and offer a backfill.

The reconciler calls `record` when it finds no watermark (it then starts at the end of
the library, leaving existing scenes alone). The count is kept as watermarks, so
`/api/v1/health` and the UI can offer the backfill; `[events] backfill_on_first_run`
queues it straight away instead.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from stash_sense.identify.backfill import BACKFILL, BackfillArgs
from stash_sense.queue import JobQueue
from stash_sense.stash.client import StashClient
from stash_sense.store import Database
from stash_sense.store.watermarks import Watermarks

_LOGGER = logging.getLogger(__name__)
NEVER_IDENTIFIED = "library.never_identified"
FIRST_RUN_AT = "library.first_run_at"
OFFER_TAKEN = "library.backfill_queued"


class FirstRun:
    """Record the library's never-identified count once and report the backfill offer."""

    def __init__(
        self,
        stash: StashClient,
        db: Database,
        queue: JobQueue,
        *,
        backfill_on_first_run: bool,
    ) -> None:
        self._stash = stash
        self._db = db
        self._queue = queue
        self._marks = Watermarks(db)
        self._auto = backfill_on_first_run

    async def record(self) -> None:
        """Count the scenes never identified (one count-only query) and maybe queue the backfill."""
        data = await self._stash.execute("CountScenes")
        total = int(data["findScenes"]["count"])
        row = await self._db.fetch_one(
            "SELECT count(*) AS n FROM scenes WHERE identified_at IS NOT NULL"
            " AND deleted_at IS NULL"
        )
        never = max(total - (int(row["n"]) if row else 0), 0)
        await self._marks.set(NEVER_IDENTIFIED, str(never))
        await self._marks.set(FIRST_RUN_AT, str(time.time()))
        if self._auto and never:
            job = await self._queue.enqueue(
                self._queue.registry.get(BACKFILL), BackfillArgs(), idempotency_key=BACKFILL
            )
            await self._marks.set(OFFER_TAKEN, str(job.job.id))
            _LOGGER.info(
                "First start: %d scenes were never identified; backfill queued as job %d",
                never,
                job.job.id,
            )
        else:
            _LOGGER.info(
                "First start: %d scenes were never identified; queue them with "
                "`stash-sense backfill`, the UI, or [events] backfill_on_first_run",
                never,
            )

    async def summary(self) -> dict[str, Any]:
        """Describe the offer for /health and the UI (store reads only, never Stash)."""
        never = await self._marks.get(NEVER_IDENTIFIED)
        taken = await self._marks.get(OFFER_TAKEN)
        if never is not None and taken is None:
            page = await self._queue.store.list(types=[BACKFILL], limit=1)
            if page.jobs:
                # a backfill was queued by the command, the API or the UI: the offer is taken
                taken = str(page.jobs[0].id)
                await self._marks.set(OFFER_TAKEN, taken)
        count = int(never) if never is not None else None
        return {
            "never_identified": count,
            "backfill_offered": bool(count) and taken is None,
            "backfill_job": int(taken) if taken is not None else None,
        }
