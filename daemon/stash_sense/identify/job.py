"""The `identify_scene` job: look a scene up in Stash and identify its primary file.

Until the face pipeline lands, identification records the scene's primary file as
seen; the job type, its arguments and its idempotency key are the final ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from stash_sense.queue import JobContext, JobType, PermanentJobError, Priority, Resource
from stash_sense.scenes import SceneLedger, file_key
from stash_sense.stash.client import StashClient

_LOGGER = logging.getLogger(__name__)
IDENTIFY_SCENE = "identify_scene"
STASH = "stash"


@dataclass(frozen=True)
class IdentifySceneArgs:
    """Arguments of `identify_scene`."""

    scene_id: int
    force: bool = False
    reason: str = ""


def identify_key(scene_id: int) -> str:
    """Return the idempotency key of a scene's identification."""
    return f"{IDENTIFY_SCENE}:{scene_id}"


class SceneIdentifier:
    """Handle `identify_scene` jobs."""

    def __init__(self, stash: StashClient, ledger: SceneLedger) -> None:
        self._stash = stash
        self._ledger = ledger

    async def run(self, context: JobContext, args: IdentifySceneArgs) -> None:
        """Identify one scene (idempotent: the same file is not redone unless forced)."""
        scene = await self._stash.find_scene(args.scene_id)
        if scene is None:
            await self._ledger.mark_deleted(args.scene_id)
            raise PermanentJobError(f"scene {args.scene_id} does not exist in Stash")
        primary = scene.primary_file
        if primary is None:
            raise PermanentJobError(f"scene {args.scene_id} has no video file")
        key = file_key(primary.id, primary.fingerprint("oshash"), primary.fingerprint("md5"))
        record = await self._ledger.get(args.scene_id)
        if record is not None and record.file_key == key and not args.force:
            _LOGGER.debug("Scene %d already identified for this file", args.scene_id)
            return
        context.check_cancelled()
        await self._ledger.mark_identified(args.scene_id, key)

    def job_type(self) -> JobType[IdentifySceneArgs]:
        """Describe the job for the registry."""
        return JobType(
            name=IDENTIFY_SCENE,
            args_type=IdentifySceneArgs,
            handler=self.run,
            resource=Resource.GPU,
            priority=Priority.NORMAL,
            requires=frozenset({STASH}),
        )
