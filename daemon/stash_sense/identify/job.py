"""The `identify_scene` job: find a scene's performers from its faces.

Idempotent: identifying the same file with the same models, database and matcher
settings again is a no-op unless forced, so a job that runs twice (at-least-once
delivery) costs one lookup the second time.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from stash_sense.faces.pipeline import Cancelled
from stash_sense.faces.result import SceneResult
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
from stash_sense.stash.models import Scene
from stash_sense.stashbox import domain_of

_LOGGER = logging.getLogger(__name__)
IDENTIFY_SCENE = "identify_scene"
Identified = Callable[[Scene, int, SceneResult], Awaitable[None]]


@dataclass(frozen=True)
class IdentifySceneArgs:
    """Arguments of `identify_scene`."""

    scene_id: int
    force: bool = False
    reason: str = ""


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
        await context.progress(0, 1, f"identifying {source.description}")
        try:
            result = await self._faces.identify(
                source.location,
                description=source.description,
                http_headers=headers,
                tagged=tagged,
                cancelled=lambda: context.cancel_requested,
                pipeline=pipeline,  # the release this job started on, even if one is swapped in
            )
        except Cancelled:
            raise JobCancelled(f"scene {args.scene_id}: cancelled") from None
        except VideoError as err:
            raise PermanentJobError(f"scene {args.scene_id}: {err}") from None
        ident_id = await self._results.save(
            args.scene_id, key, pipeline.version, result, forced=args.force
        )
        await self._ledger.mark_identified(args.scene_id, key)
        names = ", ".join(p.best.name for p in result.identified if p.best) or "nobody known"
        await context.progress(1, 1, f"{len(result.persons)} persons: {names}")
        _LOGGER.info(
            "Scene %d: %d persons (%s) in %.1fs",
            args.scene_id,
            len(result.persons),
            names,
            result.timings_ms["total"] / 1000,
        )
        for listener in self.identified:
            await listener(scene, ident_id, result)

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
