"""The `identify_scene` job: find a scene's performers from its faces.

Idempotent: identifying the same file with the same models, database and matcher
settings again is a no-op unless forced, so a job that runs twice (at-least-once
delivery) costs one lookup the second time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from stash_sense.faces.pipeline import Cancelled
from stash_sense.faces.source import resolve_source
from stash_sense.faces.types import VideoError
from stash_sense.identify.service import FaceService, FacesUnavailable
from stash_sense.identify.store import IdentificationStore
from stash_sense.queue import (
    Capability,
    JobCancelled,
    JobContext,
    JobType,
    PermanentJobError,
    Priority,
    Resource,
)
from stash_sense.scenes import SceneLedger, file_key
from stash_sense.stash.client import StashClient
from stash_sense.stashbox import domain_of

_LOGGER = logging.getLogger(__name__)
IDENTIFY_SCENE = "identify_scene"
STAGES = 4  # progress steps: frames sampled, faces found, persons matched, stored
# Called with (scene id, identification id) once a result is stored. Listeners must
# only queue durable work (tagging is its own job): identification never waits on
# Stash writes, and a listener that fails makes the job retry, which calls it again.
Identified = Callable[[int, int], Awaitable[None]]


@dataclass(frozen=True)
class IdentifySceneArgs:
    """Arguments of `identify_scene`."""

    scene_id: int
    force: bool = False
    reason: str = ""


class StageReports:
    """Turn the engine's stage messages (from its threads) into job progress, in order."""

    def __init__(self, context: JobContext) -> None:
        self._context = context
        self._loop = asyncio.get_running_loop()
        self._messages: asyncio.Queue[str | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._forward())

    def report(self, message: str) -> None:
        """Queue a message (any thread; never blocks)."""
        self._loop.call_soon_threadsafe(self._messages.put_nowait, message)

    async def _forward(self) -> None:
        """Write each message as the job's progress, until the end marker."""
        done = 0
        while (message := await self._messages.get()) is not None:
            done = min(done + 1, STAGES - 1)
            await self._context.progress(done, STAGES, message)

    async def close(self) -> None:
        """Write what is queued, then stop (before the job reports its outcome)."""
        # The engine reports a stage before it resolves the scene, and both arrive through
        # call_soon_threadsafe in that order: every message is queued by now.
        self._messages.put_nowait(None)
        try:
            await asyncio.shield(self._task)
        except asyncio.CancelledError:
            self._task.cancel()
            raise


def identify_key(scene_id: int) -> str:
    """Return the idempotency key of a scene's identification."""
    return f"{IDENTIFY_SCENE}:{scene_id}"


def universal_id(endpoint_url: str, stash_id: str) -> str:
    """Build a face-database id ("stashdb.org:<uuid>") from a Stash stash_id link."""
    return f"{domain_of(endpoint_url)}:{stash_id}"


class SceneIdentifier:
    """Handle `identify_scene` jobs."""

    def __init__(
        self,
        stash: StashClient,
        ledger: SceneLedger,
        faces: FaceService,
        results: IdentificationStore,
        *,
        path_mappings: list[str],
        api_key: str,
    ) -> None:
        self._stash = stash
        self._ledger = ledger
        self._faces = faces
        self._results = results
        self._mappings = path_mappings
        self._api_key = api_key
        self.identified: list[Identified] = []

    async def run(self, context: JobContext, args: IdentifySceneArgs) -> None:
        """Identify one scene's primary file."""
        scene = await self._stash.find_scene(args.scene_id)
        if scene is None:
            await self._ledger.mark_deleted(args.scene_id)
            raise PermanentJobError(f"scene {args.scene_id} does not exist in Stash")
        primary = scene.primary_file
        if primary is None:
            raise PermanentJobError(f"scene {args.scene_id} has no video file")
        key = file_key(primary.id, primary.fingerprint("oshash"), primary.fingerprint("md5"))
        try:
            pipeline = await self._faces.pipeline()
        except FacesUnavailable as err:
            raise PermanentJobError(f"face identification unavailable: {err}") from None
        latest = await self._results.latest(args.scene_id)
        if (
            not args.force
            and latest is not None
            and latest.file_key == key
            and latest.pipeline_version == pipeline.version
        ):
            await self._ledger.mark_identified(args.scene_id, key)
            if latest.tagged_at is None:
                # Saved by an attempt that stopped before its follow-up work was queued.
                await self._announce(args.scene_id, latest.id)
            await context.progress(1, 1, "already identified with these models")
            return
        try:
            source = resolve_source(
                primary.path, scene.paths.stream, self._mappings, scene_id=args.scene_id
            )
        except VideoError as err:
            raise PermanentJobError(f"scene {args.scene_id}: {err}") from None
        headers = {"ApiKey": self._api_key} if self._api_key and not source.is_local else None
        tagged = [
            universal_id(link.endpoint, link.stash_id)
            for performer in scene.performers
            for link in performer.stash_ids
        ]
        await context.progress(0, STAGES, f"identifying {source.description}")
        stages = StageReports(context)
        try:
            result = await self._faces.identify(
                source.location,
                description=source.description,
                http_headers=headers,
                tagged=tagged,
                cancelled=lambda: context.cancel_requested,
                pipeline=pipeline,  # the release this job started on, even if one is swapped in
                on_stage=stages.report,
            )
        except Cancelled:
            raise JobCancelled(f"scene {args.scene_id}: cancelled") from None
        except VideoError as err:
            raise PermanentJobError(f"scene {args.scene_id}: {err}") from None
        finally:
            await stages.close()
        ident_id = await self._results.save(
            args.scene_id, key, pipeline.version, result, forced=args.force
        )
        await self._ledger.mark_identified(args.scene_id, key)
        names = ", ".join(p.best.name for p in result.identified if p.best) or "nobody known"
        await context.progress(STAGES, STAGES, f"{len(result.persons)} persons: {names}")
        _LOGGER.info(
            "Scene %d: %d persons (%s) in %.1fs",
            args.scene_id,
            len(result.persons),
            names,
            result.timings_ms["total"] / 1000,
        )
        await self._announce(args.scene_id, ident_id)

    async def _announce(self, scene_id: int, ident_id: int) -> None:
        """Tell the listeners that an identification is stored."""
        for listener in self.identified:
            await listener(scene_id, ident_id)

    def job_type(self) -> JobType[IdentifySceneArgs]:
        """Describe the job for the registry."""
        return JobType(
            name=IDENTIFY_SCENE,
            args_type=IdentifySceneArgs,
            handler=self.run,
            resource=Resource.GPU,
            priority=Priority.NORMAL,
            requires=frozenset({Capability.STASH}),
        )
