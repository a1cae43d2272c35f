""" "Someone else": a person corrects an identified face to a local performer of their choice."""

from __future__ import annotations

from dataclasses import dataclass

from stash_sense.events.feedback import FeedbackLog
from stash_sense.identify.faces_view import correction_reason
from stash_sense.review import ReviewQueue
from stash_sense.review.models import DecidedBy
from stash_sense.tagging.engine import TaggingEngine
from stash_sense.tagging.suggestion import KIND
from stash_sense.writes import AuditLog, StashWriter


@dataclass(frozen=True)
class Correction:
    """What a correction did."""

    audit_id: int | None  # the write adding the chosen performer; None if already there
    undone_audit_id: int | None  # the automatic/accepted write of the wrong match it undid


class Corrections:
    """Replace a wrong match by the performer a person picked, and remember both."""

    def __init__(
        self,
        engine: TaggingEngine,
        writer: StashWriter,
        audit: AuditLog,
        review: ReviewQueue,
        feedback: FeedbackLog,
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._audit = audit
        self._review = review
        self._feedback = feedback

    async def someone_else(
        self,
        scene_id: int,
        *,
        identification_id: int,
        person_index: int,
        universal_id: str | None,
        performer_id: str,
    ) -> Correction:
        """Undo or reject the wrong match (never suggested again), then add the right one."""
        undone = None
        if universal_id:
            write = await self._live_write(scene_id, universal_id)
            if write is not None:
                # Undoing through the engine also records the rejection.
                undone = (await self._engine.undo(write)).id
            else:
                await self._review.record_rejection(
                    KIND,
                    scene_id,
                    universal_id,
                    decided_by=DecidedBy.USER,
                    payload={
                        "instead": performer_id,
                        "identification_id": identification_id,
                        "person_index": person_index,
                    },
                )
        # The chosen performer's face-database id is unknown: the write records none.
        entry = await self._writer.add_performers(
            scene_id,
            [(performer_id, "")],
            reason=correction_reason(identification_id, person_index),
        )
        await self._feedback.record(scene_id, "add", [performer_id], None)
        return Correction(entry.id if entry else None, undone)

    async def _live_write(self, scene_id: int, universal_id: str) -> int | None:
        """Return the id of the applied, not undone write that added `universal_id`."""
        for entry in reversed(await self._audit.for_scene(scene_id)):
            if (
                entry.action == "add_performers"
                and entry.status == "applied"
                and entry.undone_at is None
                and universal_id in entry.universal_ids
            ):
                return entry.id
        return None
