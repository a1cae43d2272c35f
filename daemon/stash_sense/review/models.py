"""What a review item is: its states, who decided, filters, pages and results."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import aiosqlite


class ReviewState(StrEnum):
    """Where an item is in its life.

    pending → accepting → accepted; accepting → pending when the handler fails;
    pending → rejected | superseded | expired. Only `pending` items change on request.
    """

    PENDING = "pending"
    ACCEPTING = "accepting"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"

    @property
    def live(self) -> bool:
        """Tell whether the item is still proposed (one live item per subject)."""
        return self in (ReviewState.PENDING, ReviewState.ACCEPTING)


class DecidedBy(StrEnum):
    """Who settled an item."""

    USER = "user"
    AUTO = "auto"
    # A person changed the object in Stash directly (e.g. removed an added performer).
    USER_EDIT = "user-edit"


class Resuggest(StrEnum):
    """Whether a subject may be proposed again after a decision."""

    NEVER = "never"
    # Only when the kind's fingerprint of the new payload differs (things changed again).
    IF_CHANGED = "if_changed"
    ALWAYS = "always"


@dataclass(frozen=True)
class ResuggestPolicy:
    """A kind's re-suggestion rule per decision; by default decisions are final."""

    after_accept: Resuggest = Resuggest.NEVER
    after_reject: Resuggest = Resuggest.NEVER

    def allows(self, decided: ReviewItem, fingerprint: str) -> bool:
        """Tell whether an earlier decision lets the subject be proposed with `fingerprint`."""
        if decided.fingerprint is None:
            # A rejection recorded from outside the queue covers every version.
            return False
        rule = self.after_accept if decided.state is ReviewState.ACCEPTED else self.after_reject
        if rule is Resuggest.ALWAYS:
            return True
        return rule is Resuggest.IF_CHANGED and decided.fingerprint != fingerprint


@dataclass(frozen=True)
class ReviewItem:
    """A snapshot of one review row."""

    id: int
    kind: str
    scene_id: int | None
    subject: str
    state: ReviewState
    confidence: float | None
    payload: dict[str, Any] | None
    source: str | None
    created_at: float
    updated_at: float
    decided_at: float | None
    decided_by: DecidedBy | None
    outcome: dict[str, Any] | None
    last_error: str | None
    fingerprint: str | None = field(default=None, repr=False)

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> ReviewItem:
        """Build an item from a `review_items` row."""
        return cls(
            id=row["id"],
            kind=row["kind"],
            scene_id=row["scene_id"],
            subject=row["subject"],
            state=ReviewState(row["state"]),
            confidence=row["confidence"],
            payload=_loads(row["payload"]),
            source=row["source"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            decided_at=row["decided_at"],
            decided_by=DecidedBy(row["decided_by"]) if row["decided_by"] else None,
            outcome=_loads(row["outcome"]),
            last_error=row["last_error"],
            fingerprint=row["fingerprint"],
        )


def _loads(text: str | None) -> dict[str, Any] | None:
    """Decode a JSON object column."""
    return None if text is None else dict(json.loads(text))


def dumps(data: Any) -> str:
    """Serialise JSON canonically (sorted keys, no NaN), so equal data compares equal."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


class UpsertOutcome(StrEnum):
    """What an upsert did."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    # The live item is being accepted right now; the new analysis is not applied to it.
    BUSY = "busy"
    # An earlier decision forbids proposing the subject again; the item is that decision.
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Upserted:
    """The outcome of an upsert and the item it concerns."""

    item: ReviewItem
    outcome: UpsertOutcome


class ItemSort(StrEnum):
    """List orders; ties break by id in the same direction."""

    CONFIDENCE = "confidence"
    CONFIDENCE_DESC = "-confidence"
    DATE = "date"
    DATE_DESC = "-date"


@dataclass(frozen=True)
class ItemFilter:
    """Which items to list or act on; empty fields do not filter."""

    ids: tuple[int, ...] = ()
    kinds: tuple[str, ...] = ()
    states: tuple[ReviewState, ...] = ()
    scene_ids: tuple[int, ...] = ()
    subjects: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    # Items without a confidence never match a confidence bound.
    min_confidence: float | None = None
    max_confidence: float | None = None


@dataclass(frozen=True)
class ItemPage:
    """One page of a listing and the total matching."""

    items: list[ReviewItem]
    total: int


@dataclass(frozen=True)
class ReviewCounts:
    """Items per kind and state (every state present), and all pending items."""

    by_kind: dict[str, dict[ReviewState, int]]
    pending: int


class BulkAction(StrEnum):
    """What a bulk call does to each item."""

    ACCEPT = "accept"
    REJECT = "reject"


@dataclass(frozen=True)
class ItemError:
    """Why one item of a bulk call failed: a stable code and a message."""

    code: str
    message: str


@dataclass(frozen=True)
class BulkItemResult:
    """The result for one item of a bulk call."""

    id: int
    state: ReviewState | None
    error: ItemError | None = None

    @property
    def ok(self) -> bool:
        """Tell whether the item ended as asked."""
        return self.error is None


@dataclass(frozen=True)
class BulkResult:
    """Per-item results of a bulk call; never all-or-nothing."""

    action: BulkAction
    results: list[BulkItemResult]
    # Matching pending items beyond the per-call cap, left for another call.
    remaining: int = 0

    @property
    def succeeded(self) -> int:
        """Count the items that ended as asked."""
        return sum(1 for r in self.results if r.ok)

    @property
    def failed(self) -> int:
        """Count the items that did not."""
        return sum(1 for r in self.results if not r.ok)
