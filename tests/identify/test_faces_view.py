"""The state the Faces tab shows for a person, from the audit log, the queue and the scene."""

from __future__ import annotations

from typing import Any

from stash_sense.identify.faces_view import correction_reason, person_state
from stash_sense.review.models import DecidedBy, ReviewItem, ReviewState
from stash_sense.writes import AuditEntry

U = "stashdb.org:alice"


def item(id: int, state: ReviewState, at: float, subject: str = U) -> ReviewItem:
    return ReviewItem(
        id,
        "performer_suggestion",
        5,
        subject,
        state,
        0.8,
        {},
        None,
        at,
        at,
        None,
        DecidedBy.USER,
        None,
        None,
    )


def write(
    id: int,
    at: float,
    *,
    reason: str = "auto",
    undone: float | None = None,
    uid: str = U,
    performer: str = "17",
) -> AuditEntry:
    return AuditEntry(
        id,
        5,
        "add_performers",
        "applied",
        [performer],
        [uid],
        [],
        [],
        reason,
        "m",
        None,
        at,
        undone,
        "scene:5",
    )


def state(**kw: Any) -> tuple[str, int | None, int | None, str | None]:
    args: dict[str, Any] = {
        "identification_id": 7,
        "index": 0,
        "universal_id": U,
        "local_performer_id": None,
        "scene_performer_ids": [],
        "items": [],
        "audits": [],
    }
    found = person_state(**{**args, **kw})
    return found.state, found.review_item_id, found.audit_id, found.performer_id


def test_states() -> None:
    assert state() == ("not_suggested", None, None, None)
    assert state(universal_id=None) == ("unknown", None, None, None)
    assert state(local_performer_id="17", scene_performer_ids=["17"])[0] == "in_scene"
    assert state(items=[item(3, ReviewState.PENDING, 10)]) == ("pending", 3, None, None)
    assert state(items=[item(3, ReviewState.ACCEPTING, 10)])[0] == "pending"
    assert state(items=[item(3, ReviewState.SUPERSEDED, 10)])[0] == "not_suggested"
    assert state(items=[item(3, ReviewState.REJECTED, 10)]) == ("rejected", 3, None, None)
    assert state(audits=[write(4, 20)]) == ("applied", None, 4, "17")
    accepted = [write(4, 20, reason="review:3")]
    assert state(items=[item(3, ReviewState.ACCEPTED, 10)], audits=accepted) == (
        "accepted",
        3,
        4,
        "17",
    )
    # Undo records a rejection too: the tab says "undone".
    undone = [write(4, 20, undone=30)]
    assert state(items=[item(9, ReviewState.REJECTED, 30)], audits=undone)[0] == "undone"
    # A person removed the performer in Stash after we added it.
    assert state(items=[item(9, ReviewState.REJECTED, 40)], audits=[write(4, 20)])[0] == (
        "rejected"
    )
    # Someone else: the pick wins over the wrong match's state, until it is undone.
    pick = write(6, 50, reason=correction_reason(7, 0), uid="", performer="23")
    assert state(items=[item(3, ReviewState.REJECTED, 10)], audits=[pick]) == (
        "corrected",
        None,
        6,
        "23",
    )
    other = write(6, 50, reason=correction_reason(7, 1), uid="", performer="23")
    assert state(items=[item(3, ReviewState.REJECTED, 10)], audits=[other])[0] == "rejected"
    picked_undone = write(6, 50, reason=correction_reason(7, 0), uid="", undone=60)
    assert state(items=[item(3, ReviewState.REJECTED, 10)], audits=[picked_undone])[0] == (
        "rejected"
    )
    assert state(universal_id=None, audits=[pick])[0] == "corrected"
