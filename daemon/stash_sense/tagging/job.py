"""The `tag_identification` job: act on one stored identification, once it is saved.

Tagging is its own durable job, apart from `identify_scene`, so a failed Stash write
is retried by the queue (the identification is not redone) and a slow Stash never
holds a GPU worker. Idempotent: writes are ADD-only set merges, suggestions are
upserts, and the identification records when its tagging finished.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from stash_sense.faces.result import SceneResult
from stash_sense.identify.store import IdentificationStore
from stash_sense.queue import JobContext, JobQueue, JobType, Priority, Resource
from stash_sense.stash.client import StashClient
from stash_sense.tagging.engine import TaggingEngine

_LOGGER = logging.getLogger(__name__)
TAG_IDENTIFICATION = "tag_identification"
STASH = "stash"


@dataclass(frozen=True)
class TagIdentificationArgs:
    """Arguments of `tag_identification`."""

    identification_id: int


def tag_key(identification_id: int) -> str:
    """Return the idempotency key of an identification's tagging."""
    return f"{TAG_IDENTIFICATION}:{identification_id}"


class IdentificationTagger:
    """Queue and run the tagging of stored identifications."""

    def __init__(
        self,
        engine: TaggingEngine,
        results: IdentificationStore,
        stash: StashClient,
        queue: JobQueue,
    ) -> None:
        self._engine = engine
        self._results = results
        self._stash = stash
        self._queue = queue

    async def enqueue(self, scene_id: int, identification_id: int) -> None:
        """Queue the tagging of a stored identification (a listener of identify)."""
        await self._queue.enqueue(
            self.job_type(),
            TagIdentificationArgs(identification_id),
            idempotency_key=tag_key(identification_id),
        )

    async def run(self, context: JobContext, args: TagIdentificationArgs) -> None:
        """Apply or suggest the performers of one identification."""
        ident = await self._results.get(args.identification_id)
        if ident is None:
            await context.progress(1, 1, "identification was replaced; nothing to do")
            return
        if ident.tagged_at is not None:
            await context.progress(1, 1, "already tagged")
            return
        latest = await self._results.latest(ident.scene_id)
        if latest is not None and latest.id != ident.id:
            # A newer identification has its own tagging; acting on this one would
            # bring back suggestions the newer one no longer makes.
            await self._results.mark_tagged(ident.id)
            await context.progress(1, 1, "superseded by a newer identification")
            return
        # Fetched now, not when identified: people may have edited the performers since.
        scene = await self._stash.find_scene(ident.scene_id)
        if scene is None:
            await self._results.mark_tagged(ident.id)
            await context.progress(1, 1, f"scene {ident.scene_id} no longer exists")
            return
        await self._engine.on_identified(scene, ident.id, SceneResult.from_json(ident.result))
        await self._results.mark_tagged(ident.id)
        await context.progress(1, 1, "tagged")
        _LOGGER.info("Scene %d: tagged identification %d", ident.scene_id, ident.id)

    def job_type(self) -> JobType[TagIdentificationArgs]:
        """Describe the job for the registry: Stash I/O, waits while Stash is down."""
        return JobType(
            name=TAG_IDENTIFICATION,
            args_type=TagIdentificationArgs,
            handler=self.run,
            resource=Resource.IO,
            priority=Priority.HIGH,
            requires=frozenset({STASH}),
        )
