"""Review rows in SQLite: every state change of an item is one transaction here."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from stash_sense.changes import ChangeHub, Topic
from stash_sense.review.models import (
    DecidedBy,
    ItemFilter,
    ItemPage,
    ItemSort,
    ResuggestPolicy,
    ReviewCounts,
    ReviewItem,
    ReviewState,
    Upserted,
    UpsertOutcome,
    dumps,
)
from stash_sense.store import Database

_ORDER = {
    # NULL confidences sort last in both directions.
    ItemSort.CONFIDENCE: "confidence IS NULL, confidence ASC, id ASC",
    ItemSort.CONFIDENCE_DESC: "confidence IS NULL, confidence DESC, id DESC",
    ItemSort.DATE: "created_at ASC, id ASC",
    ItemSort.DATE_DESC: "created_at DESC, id DESC",
}
_LIVE = "state IN ('pending', 'accepting')"
# The live index keys scene-less items on 0; lookups must use the same expression.
_SAME_SUBJECT = "kind = ? AND coalesce(scene_id, 0) = ? AND subject = ?"


@dataclass(frozen=True)
class NewItem:
    """A suggestion to insert or to merge into the live item of its subject."""

    kind: str
    scene_id: int | None
    subject: str
    payload: dict[str, Any]
    fingerprint: str
    confidence: float | None = None
    source: str | None = None


@dataclass(frozen=True)
class Transition:
    """An item after a requested change, and whether the change happened."""

    item: ReviewItem
    changed: bool


class ReviewStore:
    """All SQL about review items."""

    def __init__(self, db: Database, changes: ChangeHub | None = None) -> None:
        self.db = db
        self._changes = changes

    def _announce(self, action: str, rows: Sequence[aiosqlite.Row | None]) -> None:
        """Publish the new states of changed rows to live views."""
        for row in rows:
            if row is not None:
                self._publish(action, ReviewItem.from_row(row))

    def _publish(self, action: str, item: ReviewItem) -> None:
        """Publish one item's new state to live views."""
        if self._changes is not None:
            self._changes.publish(
                Topic.REVIEW,
                action,
                {
                    "id": item.id,
                    "kind": item.kind,
                    "state": item.state.value,
                    "scene_id": item.scene_id,
                },
            )

    async def upsert(self, new: NewItem, policy: ResuggestPolicy) -> Upserted:
        """Create the suggestion, update the live one, or refuse it after a final decision."""
        upserted = await self._upsert(new, policy)
        if upserted.outcome in (UpsertOutcome.CREATED, UpsertOutcome.UPDATED):
            self._publish(upserted.outcome.value, upserted.item)
        return upserted

    async def _upsert(self, new: NewItem, policy: ResuggestPolicy) -> Upserted:
        """Run an upsert in one transaction."""
        now = time.time()
        payload = dumps(new.payload)
        key = (new.kind, new.scene_id or 0, new.subject)
        # One write transaction: concurrent upserts of a subject serialise here.
        async with self.db.transaction() as conn:
            live = await _one(
                conn, f"SELECT * FROM review_items WHERE {_SAME_SUBJECT} AND {_LIVE}", key
            )
            if live is not None:
                return await _merge(conn, ReviewItem.from_row(live), new, payload, now)
            decided = await _all(
                conn,
                f"SELECT * FROM review_items WHERE {_SAME_SUBJECT}"
                " AND state IN ('accepted', 'rejected') ORDER BY id DESC",
                key,
            )
            for row in decided:
                earlier = ReviewItem.from_row(row)
                if not policy.allows(earlier, new.fingerprint):
                    return Upserted(earlier, UpsertOutcome.BLOCKED)
            inserted = await _one(
                conn,
                "INSERT INTO review_items (kind, scene_id, subject, confidence, payload,"
                " fingerprint, source, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (
                    new.kind,
                    new.scene_id,
                    new.subject,
                    new.confidence,
                    payload,
                    new.fingerprint,
                    new.source,
                    now,
                    now,
                ),
            )
        assert inserted is not None  # RETURNING always yields the inserted row
        return Upserted(ReviewItem.from_row(inserted), UpsertOutcome.CREATED)

    async def claim(self, item_id: int) -> ReviewItem | None:
        """Move a pending item to accepting; None if it was not pending."""
        async with self.db.transaction() as conn:
            row = await _one(
                conn,
                "UPDATE review_items SET state = 'accepting', updated_at = ?"
                " WHERE id = ? AND state = 'pending' RETURNING *",
                (time.time(), item_id),
            )
        self._announce("accepting", [row])
        return ReviewItem.from_row(row) if row is not None else None

    async def finish_accept(
        self, item_id: int, outcome: dict[str, Any], decided_by: DecidedBy
    ) -> ReviewItem | None:
        """Record a successful accept of a claimed item."""
        now = time.time()
        async with self.db.transaction() as conn:
            row = await _one(
                conn,
                "UPDATE review_items SET state = 'accepted', outcome = ?, decided_by = ?,"
                " decided_at = ?, updated_at = ?, last_error = NULL"
                " WHERE id = ? AND state = 'accepting' RETURNING *",
                (dumps(outcome), decided_by.value, now, now, item_id),
            )
        self._announce("accepted", [row])
        return ReviewItem.from_row(row) if row is not None else None

    async def release(self, item_id: int, error: str) -> None:
        """Put a claimed item back to pending after its accept failed."""
        async with self.db.transaction() as conn:
            row = await _one(
                conn,
                "UPDATE review_items SET state = 'pending', last_error = ?, updated_at = ?"
                " WHERE id = ? AND state = 'accepting' RETURNING *",
                (error, time.time(), item_id),
            )
        self._announce("released", [row])

    async def recover(self) -> int:
        """Unlock items a dead process left accepting; return how many."""
        return await self.db.execute(
            "UPDATE review_items SET state = 'pending', updated_at = ?,"
            " last_error = 'interrupted: the daemon stopped while accepting; accept again'"
            " WHERE state = 'accepting'",
            (time.time(),),
        )

    async def reject(self, item_id: int, decided_by: DecidedBy) -> Transition | None:
        """Reject a pending item; None if there is no such item."""
        now = time.time()
        async with self.db.transaction() as conn:
            row = await _one(
                conn,
                "UPDATE review_items SET state = 'rejected', decided_by = ?, decided_at = ?,"
                " updated_at = ? WHERE id = ? AND state = 'pending' RETURNING *",
                (decided_by.value, now, now, item_id),
            )
            if row is not None:
                self._announce("rejected", [row])
                return Transition(ReviewItem.from_row(row), changed=True)
            row = await _one(conn, "SELECT * FROM review_items WHERE id = ?", (item_id,))
        return Transition(ReviewItem.from_row(row), changed=False) if row is not None else None

    async def record_rejection(
        self,
        kind: str,
        scene_id: int | None,
        subject: str,
        *,
        payload: dict[str, Any] | None,
        decided_by: DecidedBy,
        source: str | None,
    ) -> Transition:
        """Record an outside rejection as its own row, rejecting a pending item with it.

        The row has no fingerprint, so it blocks every later version of the subject
        whatever the kind's re-suggestion policy; recording it again changes nothing.
        """
        now = time.time()
        key = (kind, scene_id or 0, subject)
        async with self.db.transaction() as conn:
            closed = await _all(
                conn,
                "UPDATE review_items SET state = 'rejected', decided_by = ?, decided_at = ?,"
                f" updated_at = ? WHERE {_SAME_SUBJECT} AND state = 'pending' RETURNING *",
                (decided_by.value, now, now, *key),
            )
            self._announce("rejected", closed)
            closed_pending = bool(closed)
            row = await _one(
                conn,
                f"SELECT * FROM review_items WHERE {_SAME_SUBJECT} AND state = 'rejected'"
                " AND fingerprint IS NULL ORDER BY id DESC LIMIT 1",
                key,
            )
            if row is not None:
                return Transition(ReviewItem.from_row(row), changed=closed_pending)
            row = await _one(
                conn,
                "INSERT INTO review_items (kind, scene_id, subject, state, payload, source,"
                " created_at, updated_at, decided_at, decided_by)"
                " VALUES (?, ?, ?, 'rejected', ?, ?, ?, ?, ?, ?) RETURNING *",
                (
                    kind,
                    scene_id,
                    subject,
                    None if payload is None else dumps(payload),
                    source,
                    now,
                    now,
                    now,
                    decided_by.value,
                ),
            )
        assert row is not None  # RETURNING always yields the inserted row
        self._announce("rejected", [row])
        return Transition(ReviewItem.from_row(row), changed=True)

    async def is_rejected(self, kind: str, scene_id: int | None, subject: str) -> bool:
        """Tell whether a subject was ever rejected (in the queue or outside it)."""
        row = await self.db.fetch_one(
            f"SELECT 1 FROM review_items WHERE {_SAME_SUBJECT} AND state = 'rejected' LIMIT 1",
            (kind, scene_id or 0, subject),
        )
        return row is not None

    async def supersede(self, kind: str, scene_id: int | None, keep: Collection[str]) -> int:
        """Mark the scene's other pending items of a kind superseded; return how many."""
        now = time.time()
        keep_sql = f" AND subject NOT IN ({','.join('?' * len(keep))})" if keep else ""
        async with self.db.transaction() as conn:
            rows = await _all(
                conn,
                "UPDATE review_items SET state = 'superseded', decided_at = ?, updated_at = ?"
                f" WHERE kind = ? AND coalesce(scene_id, 0) = ? AND state = 'pending'{keep_sql}"
                " RETURNING *",
                (now, now, kind, scene_id or 0, *keep),
            )
        self._announce("superseded", rows)
        return len(rows)

    async def expire_scene(self, scene_id: int) -> int:
        """Expire the pending items of a deleted scene; return how many."""
        now = time.time()
        async with self.db.transaction() as conn:
            rows = await _all(
                conn,
                "UPDATE review_items SET state = 'expired', decided_at = ?, updated_at = ?"
                " WHERE scene_id = ? AND state = 'pending' RETURNING *",
                (now, now, scene_id),
            )
        self._announce("expired", rows)
        return len(rows)

    async def get(self, item_id: int) -> ReviewItem | None:
        """Return one item."""
        row = await self.db.fetch_one("SELECT * FROM review_items WHERE id = ?", (item_id,))
        return ReviewItem.from_row(row) if row is not None else None

    async def decided_since(self, kind: str, since: float) -> list[ReviewItem]:
        """Return a kind's accepted or rejected items with a payload decided after `since`."""
        rows = await self.db.fetch_all(
            "SELECT * FROM review_items WHERE kind = ?"
            " AND state IN ('accepted', 'rejected') AND payload IS NOT NULL AND decided_at > ?"
            " ORDER BY decided_at",
            (kind, since),
        )
        return [ReviewItem.from_row(r) for r in rows]

    async def list(
        self,
        filters: ItemFilter,
        *,
        sort: ItemSort = ItemSort.DATE_DESC,
        limit: int = 50,
        offset: int = 0,
    ) -> ItemPage:
        """List items matching a filter, in a stable order, with the total."""
        where, params = _where(filters)
        total = await self.db.fetch_one(f"SELECT COUNT(*) AS n FROM review_items{where}", params)
        rows = await self.db.fetch_all(
            f"SELECT * FROM review_items{where} ORDER BY {_ORDER[sort]} LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return ItemPage([ReviewItem.from_row(r) for r in rows], int(total["n"]) if total else 0)

    async def counts(self, kinds: Collection[str] = ()) -> ReviewCounts:
        """Count items per kind and state; listed kinds appear even without items."""
        rows = await self.db.fetch_all(
            "SELECT kind, state, COUNT(*) AS n FROM review_items GROUP BY kind, state"
        )
        by_kind = {k: dict.fromkeys(ReviewState, 0) for k in kinds}
        for row in rows:
            by_kind.setdefault(row["kind"], dict.fromkeys(ReviewState, 0))
            by_kind[row["kind"]][ReviewState(row["state"])] = row["n"]
        pending = sum(c[ReviewState.PENDING] for c in by_kind.values())
        return ReviewCounts(dict(sorted(by_kind.items())), pending)


def _where(filters: ItemFilter) -> tuple[str, list[Any]]:
    """Build a WHERE clause from a filter."""
    clauses: list[str] = []
    params: list[Any] = []
    lists: list[tuple[str, Sequence[Any]]] = [
        ("id", filters.ids),
        ("kind", filters.kinds),
        ("state", [s.value for s in filters.states]),
        ("scene_id", filters.scene_ids),
        ("subject", filters.subjects),
        ("source", filters.sources),
    ]
    for column, values in lists:
        if values:
            clauses.append(f"{column} IN ({','.join('?' * len(values))})")
            params.extend(values)
    if filters.min_confidence is not None:
        clauses.append("confidence >= ?")
        params.append(filters.min_confidence)
    if filters.max_confidence is not None:
        clauses.append("confidence <= ?")
        params.append(filters.max_confidence)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


async def _merge(
    conn: aiosqlite.Connection, live: ReviewItem, new: NewItem, payload: str, now: float
) -> Upserted:
    """Apply a new analysis to the live item of its subject."""
    if live.state is ReviewState.ACCEPTING:
        return Upserted(live, UpsertOutcome.BUSY)
    same = (
        live.payload is not None
        and dumps(live.payload) == payload
        and live.confidence == new.confidence
        and live.source == new.source
    )
    if same:
        return Upserted(live, UpsertOutcome.UNCHANGED)
    row = await _one(
        conn,
        "UPDATE review_items SET payload = ?, fingerprint = ?, confidence = ?, source = ?,"
        " updated_at = ? WHERE id = ? RETURNING *",
        (payload, new.fingerprint, new.confidence, new.source, now, live.id),
    )
    assert row is not None  # the row was read in this transaction
    return Upserted(ReviewItem.from_row(row), UpsertOutcome.UPDATED)


async def _one(conn: aiosqlite.Connection, sql: str, params: Sequence[Any]) -> aiosqlite.Row | None:
    """Run a statement on a transaction's connection and return its first row."""
    async with conn.execute(sql, params) as cursor:
        row = await cursor.fetchone()
    return row


async def _all(conn: aiosqlite.Connection, sql: str, params: Sequence[Any]) -> list[aiosqlite.Row]:
    """Run a query on a transaction's connection and return every row."""
    async with conn.execute(sql, params) as cursor:
        rows = await cursor.fetchall()
    return list(rows)
