"""The `events.check_scene_file` job: re-identify a scene whose primary file changed."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from stash_sense.identify import IDENTIFY_SCENE, IdentifySceneArgs, identify_key
from stash_sense.queue import Capability, JobContext, JobQueue, JobType, Priority, Resource
from stash_sense.scenes import SceneLedger, file_key
from stash_sense.stash.client import StashClient

_LOGGER = logging.getLogger(__name__)
CHECK_SCENE_FILE = "events.check_scene_file"


@dataclass(frozen=True)
class FileCheckArgs:
    """Arguments of `events.check_scene_file`."""

    scene_id: int


def file_check_key(scene_id: int) -> str:
    """Return the idempotency key of a scene's file check."""
    return f"{CHECK_SCENE_FILE}:{scene_id}"


class FileCheck:
    """Compare a scene's primary file with the one last identified."""

    def __init__(self, stash: StashClient, ledger: SceneLedger, queue: JobQueue) -> None:
        self._stash = stash
        self._ledger = ledger
        self._queue = queue

    async def run(self, context: JobContext, args: FileCheckArgs) -> None:
        """Enqueue identification if the scene's primary file is not the identified one."""
        record = await self._ledger.get(args.scene_id)
        if record is None or record.file_key is None:
            # Never identified: new scenes come through create events and the
            # reconciler; the existing library is the backfill's job.
            return
        scene = await self._stash.find_scene(args.scene_id)
        if scene is None or scene.primary_file is None:
            return
        primary = scene.primary_file
        key = file_key(primary.id, primary.fingerprint("oshash"), primary.fingerprint("md5"))
        if key == record.file_key:
            return
        _LOGGER.info("Scene %d has a new primary file; identifying again", args.scene_id)
        await self._queue.enqueue(
            self._queue.registry.get(IDENTIFY_SCENE),
            IdentifySceneArgs(args.scene_id, reason="file changed"),
            idempotency_key=identify_key(args.scene_id),
        )
        await self._ledger.mark_requested([args.scene_id])

    def job_type(self) -> JobType[FileCheckArgs]:
        """Describe the job for the registry."""
        return JobType(
            name=CHECK_SCENE_FILE,
            args_type=FileCheckArgs,
            handler=self.run,
            resource=Resource.IO,
            priority=Priority.NORMAL,
            requires=frozenset({Capability.STASH}),
        )
