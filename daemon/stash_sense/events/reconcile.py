"""The `events.reconcile` job: find scenes that no event announced.

Hooks and subscriptions are hints (Stash retries neither), so this pass makes sure
nothing is missed. It pages through Stash twice:

- **new scenes** by id (monotonic): every scene above the id watermark that was never
  requested is queued for identification;
- **changed scenes** by `updated_at`, which Stash compares as strings in its local
  offset: the pass re-reads a margin before the watermark (clock and DST shifts),
  and re-identifies scenes whose primary file is not the one last identified.

Each watermark advances only after the page's jobs are committed, so a crash in
between repeats work instead of skipping it. On the very first run both watermarks
start at the current end of the library: the existing library is the backfill's job
(the `on_first_run` hook records how many scenes that leaves, to offer it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from stash_sense.config import EventsConfig
from stash_sense.identify import IDENTIFY_SCENE, IdentifySceneArgs, identify_key
from stash_sense.queue import (
    Capability,
    JobContext,
    JobQueue,
    JobState,
    JobType,
    Priority,
    Request,
    Resource,
)
from stash_sense.scenes import SceneLedger, file_key
from stash_sense.stash.client import StashClient
from stash_sense.stash.models import SceneSummary
from stash_sense.store.watermarks import Watermarks

_LOGGER = logging.getLogger(__name__)
RECONCILE = "events.reconcile"
NEW_MARK = "reconcile.scene_id"
CHANGED_MARK = "reconcile.scene_updated_at"


@dataclass(frozen=True)
class ReconcileArgs:
    """Arguments of `events.reconcile`."""

    reason: str = ""


@dataclass
class _Tally:
    """What one run found."""

    new: int = 0
    changed: int = 0
    pages: int = 0


class Reconciler:
    """Poll Stash for new and changed scenes and queue their identification."""

    def __init__(
        self,
        stash: StashClient,
        ledger: SceneLedger,
        queue: JobQueue,
        watermarks: Watermarks,
        config: EventsConfig,
        *,
        on_first_run: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._stash = stash
        self._on_first_run = on_first_run  # before the first watermark: the library is new to us
        self._ledger = ledger
        self._queue = queue
        self._marks = watermarks
        self._config = config
        # Two runs at once would race on the watermarks; let them take turns.
        self._lock = asyncio.Lock()

    async def request(self, reason: str) -> None:
        """Queue a run; if one is already running, queue one more to follow it."""
        job_type = self._queue.registry.get(RECONCILE)
        result = await self._queue.enqueue(
            job_type, ReconcileArgs(reason), idempotency_key=RECONCILE
        )
        if not result.created and result.job.state is JobState.RUNNING:
            await self._queue.enqueue(
                job_type, ReconcileArgs(reason), idempotency_key=f"{RECONCILE}:again"
            )

    async def run(self, context: JobContext, args: ReconcileArgs) -> None:
        """Run both passes."""
        async with self._lock:
            tally = _Tally()
            await self._new_scenes(context, tally)
            await self._changed_scenes(context, tally)
        message = f"{tally.new} new and {tally.changed} changed scenes queued"
        await context.progress(tally.pages, tally.pages, message)
        if tally.new or tally.changed:
            _LOGGER.info("Reconcile (%s): %s", args.reason or "scheduled", message)

    async def _new_scenes(self, context: JobContext, tally: _Tally) -> None:
        """Queue scenes above the id watermark that were never requested."""
        mark = await self._marks.get(NEW_MARK)
        if mark is None:
            if self._on_first_run is not None:
                await self._on_first_run()
            newest = await self._stash.find_scenes_page(per_page=1, sort="id", direction="DESC")
            top = int(newest.scenes[0].id) if newest.scenes else 0
            await self._marks.set(NEW_MARK, str(top))
            _LOGGER.info(
                "First reconcile: %d existing scenes are left to `stash-sense backfill`",
                newest.count,
            )
            return
        last_id = int(mark)
        while True:
            context.check_cancelled()
            page = await self._stash.find_scenes_page(
                scene_filter={"id": {"value": last_id, "modifier": "GREATER_THAN"}},
                sort="id",
                direction="ASC",
                per_page=self._config.reconcile_page_size,
            )
            tally.pages += 1
            if not page.scenes:
                return
            ids = [int(s.id) for s in page.scenes]
            fresh = await self._ledger.unrequested(ids)
            tally.new += await self._enqueue(fresh, "reconcile: new scene")
            last_id = max(ids)
            await self._marks.set(NEW_MARK, str(last_id))
            await context.progress(tally.pages, None, f"{tally.new} new scenes")
            if len(ids) < self._config.reconcile_page_size:
                return

    async def _changed_scenes(self, context: JobContext, tally: _Tally) -> None:
        """Re-identify scenes whose primary file changed since it was identified."""
        mark = await self._marks.get(CHANGED_MARK)
        if mark is None:
            newest = await self._stash.find_scenes_page(
                per_page=1, sort="updated_at", direction="DESC"
            )
            if newest.scenes:
                await self._marks.set(CHANGED_MARK, newest.scenes[0].updated_at)
            return
        since = shift_timestamp(mark, -self._config.updated_margin_seconds)
        page_number = 1
        highest = mark
        while True:
            context.check_cancelled()
            page = await self._stash.find_scenes_page(
                scene_filter={"updated_at": {"value": since, "modifier": "GREATER_THAN"}},
                sort="updated_at",
                direction="ASC",
                page=page_number,
                per_page=self._config.reconcile_page_size,
            )
            tally.pages += 1
            if not page.scenes:
                return
            changed = await self._changed(page.scenes)
            tally.changed += await self._enqueue(changed, "reconcile: file changed")
            highest = max([highest, *(s.updated_at for s in page.scenes)])
            await self._marks.set(CHANGED_MARK, highest)
            if len(page.scenes) < self._config.reconcile_page_size:
                return
            page_number += 1

    async def _changed(self, scenes: tuple[SceneSummary, ...]) -> list[int]:
        """Return the identified scenes whose primary file differs from the identified one."""
        records = await self._ledger.get_many([int(s.id) for s in scenes])
        changed = []
        for scene in scenes:
            record = records.get(int(scene.id))
            if record is None or record.file_key is None or not scene.files:
                continue
            primary = scene.files[0]
            key = file_key(primary.id, primary.fingerprint("oshash"), primary.fingerprint("md5"))
            if key != record.file_key:
                changed.append(int(scene.id))
        return changed

    async def _enqueue(self, scene_ids: list[int], reason: str) -> int:
        """Queue identification of scenes; return how many jobs are new."""
        if not scene_ids:
            return 0
        identify = self._queue.registry.get(IDENTIFY_SCENE)
        results = await self._queue.enqueue_many(
            [
                Request(
                    identify,
                    IdentifySceneArgs(sid, reason=reason),
                    idempotency_key=identify_key(sid),
                )
                for sid in scene_ids
            ]
        )
        await self._ledger.mark_requested(scene_ids)
        return sum(r.created for r in results)

    def job_type(self) -> JobType[ReconcileArgs]:
        """Describe the job for the registry."""
        return JobType(
            name=RECONCILE,
            args_type=ReconcileArgs,
            handler=self.run,
            resource=Resource.IO,
            priority=Priority.HIGH,
            requires=frozenset({Capability.STASH}),
        )


def shift_timestamp(stamp: str, seconds: float) -> str:
    """Move an RFC 3339 timestamp by `seconds`, keeping its offset and format."""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    moved = moment + timedelta(seconds=seconds)
    text = moved.isoformat(timespec="seconds" if moment.microsecond == 0 else "auto")
    # Stash (Go) writes UTC as "Z"; keep that so string comparison stays aligned.
    return text.replace("+00:00", "Z") if stamp.endswith("Z") else text
