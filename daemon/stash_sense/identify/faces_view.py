"""What the scene "Faces" tab shows: each person of the latest identification and its state.

The state of a person is read from where the decisions live: the audit log (writes made,
and undone), the review queue (suggestions and their decisions) and the scene itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from stash_sense.review.models import ReviewItem, ReviewState
from stash_sense.writes import AuditEntry

CORRECTION_REASON = "someone-else"


def correction_reason(identification_id: int, person_index: int) -> str:
    """Return the audit reason of a "someone else" correction of one person."""
    return f"{CORRECTION_REASON}:{identification_id}:{person_index}"


@dataclass(frozen=True)
class PersonState:
    """Where one identified person stands, and the records an action would act on."""

    state: str  # applied, accepted, pending, rejected, undone, corrected, in_scene,
    # not_suggested (below the review threshold), unknown (no match)
    review_item_id: int | None = None
    audit_id: int | None = None  # the write an undo would revert
    performer_id: str | None = None  # the local performer the state is about

    def to_json(self) -> dict[str, Any]:
        """Describe the state for the API."""
        return {
            "state": self.state,
            "review_item_id": self.review_item_id,
            "audit_id": self.audit_id,
            "performer_id": self.performer_id,
        }


def person_state(
    *,
    identification_id: int,
    index: int,
    universal_id: str | None,
    local_performer_id: str | None,
    scene_performer_ids: Iterable[str],
    items: Sequence[ReviewItem],
    audits: Sequence[AuditEntry],
) -> PersonState:
    """Combine corrections, writes, suggestions and the scene into one state."""
    writes = [a for a in audits if a.action == "add_performers" and a.status == "applied"]
    correction = _newest(
        a for a in writes if a.reason == correction_reason(identification_id, index)
    )
    if correction is not None:
        performer = correction.performer_ids[0] if correction.performer_ids else None
        if correction.undone_at is None:
            return PersonState("corrected", audit_id=correction.id, performer_id=performer)
    if universal_id is None:
        return PersonState("unknown")
    item = _newest_item(i for i in items if i.subject == universal_id)
    write = _newest(a for a in writes if universal_id in a.universal_ids)
    if write is not None:
        performer = write.performer_ids[write.universal_ids.index(universal_id)]
        item_id = item.id if item else None
        if write.undone_at is not None:
            # Undoing also records a rejection: the undo is the news, not the rejection.
            return PersonState("undone", item_id, write.id, performer)
        if (
            item is not None
            and item.id
            and item.state is ReviewState.REJECTED
            and (item.updated_at > write.created_at)
        ):
            # A person removed the performer in Stash after we added it.
            return PersonState("rejected", item_id, None, performer)
        state = "applied" if write.reason == "auto" else "accepted"
        return PersonState(state, item_id, write.id, performer)
    if item is not None and item.state is not ReviewState.SUPERSEDED:
        state = "pending" if item.state is ReviewState.ACCEPTING else item.state.value
        return PersonState(state, item.id, None, local_performer_id)
    if local_performer_id is not None and local_performer_id in set(scene_performer_ids):
        return PersonState("in_scene", performer_id=local_performer_id)
    return PersonState("not_suggested", performer_id=local_performer_id)


def _newest(entries: Iterable[AuditEntry]) -> AuditEntry | None:
    return max(entries, key=lambda a: a.id, default=None)


def _newest_item(items: Iterable[ReviewItem]) -> ReviewItem | None:
    return max(items, key=lambda i: i.id, default=None)
