"""Turn Stash hook events into work: store each event, then map it to jobs."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from stash_sense.events.feedback import FeedbackLog, performer_edit
from stash_sense.events.file_check import CHECK_SCENE_FILE, FileCheckArgs, file_check_key
from stash_sense.events.payload import HookEvent, parse_hook
from stash_sense.identify import IDENTIFY_SCENE, IdentifySceneArgs, identify_key
from stash_sense.queue import JobQueue
from stash_sense.scenes import SceneLedger
from stash_sense.store import Database
from stash_sense.writes.ids import is_own_write

_LOGGER = logging.getLogger(__name__)
SceneDeleted = Callable[[int], Awaitable[None]]
PerformersEdited = Callable[[int, str, list[str]], Awaitable[None]]
PerformerChanged = Callable[[], None]


class Outcome(StrEnum):
    """What the intake did with an event."""

    RECEIVED = "received"  # stored, not yet mapped (a crash in between replays it)
    ACCEPTED = "accepted"  # work was queued
    DUPLICATE = "duplicate"  # the work is already queued or done
    OWN_WRITE = "own_write"  # caused by the daemon's own mutation: dropped
    FEEDBACK = "feedback"  # a person's performer edit: recorded
    IGNORED = "ignored"  # nothing to do for this event


@dataclass(frozen=True)
class Receipt:
    """The answer to one event."""

    event_id: int
    outcome: Outcome
    job_id: int | None = None
    detail: str | None = None


class EventIntake:
    """Store hook events durably and map them to jobs."""

    def __init__(
        self, db: Database, queue: JobQueue, ledger: SceneLedger, feedback: FeedbackLog
    ) -> None:
        self._db = db
        self._queue = queue
        self._ledger = ledger
        self._feedback = feedback
        self.scene_deleted: list[SceneDeleted] = []
        self.performers_edited: list[PerformersEdited] = []
        self.performer_changed: list[PerformerChanged] = []

    async def ingest(self, data: Any) -> Receipt:
        """Validate, store and map one event (raises InvalidEvent for a bad payload)."""
        event = parse_hook(data)
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO events (received_at, type, object_id, payload) VALUES (?, ?, ?, ?)",
                (time.time(), event.type, event.id, json.dumps(data, separators=(",", ":"))),
            )
            event_id = int(cursor.lastrowid or 0)
        return await self._map(event_id, event)

    async def replay_pending(self) -> int:
        """Map events stored but not mapped before the process stopped."""
        rows = await self._db.fetch_all(
            "SELECT id, payload FROM events WHERE outcome = 'received' ORDER BY id"
        )
        for row in rows:
            await self._map(row["id"], parse_hook(json.loads(row["payload"])))
        return len(rows)

    async def _map(self, event_id: int, event: HookEvent) -> Receipt:
        """Map a stored event to work and record the outcome on its row."""
        receipt = await self._dispatch(event_id, event)
        await self._db.execute(
            "UPDATE events SET outcome = ?, detail = ?, job_id = ? WHERE id = ?",
            (receipt.outcome.value, receipt.detail, receipt.job_id, event_id),
        )
        return receipt

    async def _dispatch(self, event_id: int, event: HookEvent) -> Receipt:
        """Decide what an event means."""
        if event.object == "Performer":
            for changed in self.performer_changed:
                changed()
            return Receipt(event_id, Outcome.IGNORED, detail="performer lookups refreshed")
        if event.object != "Scene" or event.id is None:
            return Receipt(event_id, Outcome.IGNORED, detail="not a scene event")
        if event.operation == "Create":
            return await self._scene_created(event_id, event.id)
        if event.operation == "Update":
            return await self._scene_updated(event_id, event)
        if event.operation == "Destroy":
            return await self._scene_destroyed(event_id, event.id)
        return Receipt(event_id, Outcome.IGNORED)

    async def _scene_created(self, event_id: int, scene_id: int) -> Receipt:
        """Identify a new scene, once."""
        record = await self._ledger.get(scene_id)
        if record is not None and record.requested_at is not None and record.deleted_at is None:
            return Receipt(event_id, Outcome.DUPLICATE, detail="scene already requested")
        identify = self._queue.registry.get(IDENTIFY_SCENE)
        result = await self._queue.enqueue(
            identify,
            IdentifySceneArgs(scene_id, reason="created"),
            idempotency_key=identify_key(scene_id),
        )
        await self._ledger.mark_requested([scene_id])
        outcome = Outcome.ACCEPTED if result.created else Outcome.DUPLICATE
        return Receipt(event_id, outcome, job_id=result.job.id)

    async def _scene_updated(self, event_id: int, event: HookEvent) -> Receipt:
        """Re-check a scanned scene's file, or record a person's performer edit."""
        assert event.id is not None
        scene_input = event.scene_input()
        if is_own_write(scene_input):
            return Receipt(event_id, Outcome.OWN_WRITE)
        if event.input is None:
            # A scan found a new or changed file for this scene.
            check = self._queue.registry.get(CHECK_SCENE_FILE)
            result = await self._queue.enqueue(
                check, FileCheckArgs(event.id), idempotency_key=file_check_key(event.id)
            )
            outcome = Outcome.ACCEPTED if result.created else Outcome.DUPLICATE
            return Receipt(event_id, outcome, job_id=result.job.id)
        edit = performer_edit(scene_input) if scene_input is not None else None
        if edit is None:
            return Receipt(event_id, Outcome.IGNORED, detail="no performer change")
        kind, performer_ids = edit
        await self._feedback.record(event.id, kind, performer_ids, event_id)
        for listener in self.performers_edited:
            await listener(event.id, kind, performer_ids)
        return Receipt(event_id, Outcome.FEEDBACK, detail=f"performers {kind}")

    async def _scene_destroyed(self, event_id: int, scene_id: int) -> Receipt:
        """Cancel queued work for a deleted scene and let other domains retire theirs."""
        cancelled = await self._queue.cancel_by_keys(
            [identify_key(scene_id), file_check_key(scene_id)]
        )
        await self._ledger.mark_deleted(scene_id)
        for listener in self.scene_deleted:
            await listener(scene_id)
        return Receipt(event_id, Outcome.ACCEPTED, detail=f"cancelled {cancelled} jobs")

    async def prune(self, before: float) -> int:
        """Delete events received before `before`."""
        return await self._db.execute(
            "DELETE FROM events WHERE received_at < ? AND outcome != 'received'", (before,)
        )
