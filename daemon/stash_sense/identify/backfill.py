"""The `identify.backfill` job: queue identification of every scene never identified."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from stash_sense.identify.job import IDENTIFY_SCENE, IdentifySceneArgs, identify_key
from stash_sense.queue import Capability, JobContext, JobQueue, JobType, Priority, Request, Resource
from stash_sense.scenes import SceneLedger
from stash_sense.stash.client import StashClient

_LOGGER = logging.getLogger(__name__)
BACKFILL = "identify.backfill"
RESOURCE = Resource.IO
PRIORITY = Priority.LOW


@dataclass(frozen=True)
class BackfillArgs:
    """Arguments of `identify.backfill`."""

    priority: int = PRIORITY


class Backfill:
    """Walk every scene in Stash by id and enqueue the ones never identified."""

    def __init__(
        self, stash: StashClient, ledger: SceneLedger, queue: JobQueue, page_size: int
    ) -> None:
        self._stash = stash
        self._ledger = ledger
        self._queue = queue
        self._page_size = page_size

    async def run(self, context: JobContext, args: BackfillArgs) -> None:
        """Page through all scenes and enqueue identification at low priority."""
        identify = self._queue.registry.get(IDENTIFY_SCENE)
        last_id = 0
        seen = queued = 0
        total: int | None = None
        while True:
            context.check_cancelled()
            page = await self._stash.find_scenes_page(
                scene_filter={"id": {"value": last_id, "modifier": "GREATER_THAN"}},
                sort="id",
                direction="ASC",
                per_page=self._page_size,
            )
            if total is None:
                total = page.count
            if not page.scenes:
                break
            ids = [int(s.id) for s in page.scenes]
            todo = await self._ledger.never_identified(ids)
            results = await self._queue.enqueue_many(
                [
                    Request(
                        identify,
                        IdentifySceneArgs(sid, reason="backfill"),
                        priority=args.priority,
                        idempotency_key=identify_key(sid),
                    )
                    for sid in todo
                ]
            )
            await self._ledger.mark_requested(todo)
            queued += sum(r.created for r in results)
            seen += len(ids)
            last_id = max(ids)
            await context.progress(seen, max(total, seen), f"queued {queued} scenes")
            if len(ids) < self._page_size:
                break
        _LOGGER.info("Backfill queued %d of %d scenes", queued, seen)
        await context.progress(seen, seen, f"queued {queued} scenes")

    def job_type(self) -> JobType[BackfillArgs]:
        """Describe the job for the registry."""
        return JobType(
            name=BACKFILL,
            args_type=BackfillArgs,
            handler=self.run,
            resource=RESOURCE,
            priority=PRIORITY,
            requires=frozenset({Capability.STASH}),
        )
