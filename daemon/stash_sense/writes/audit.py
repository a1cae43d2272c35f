"""The audit log: every write the daemon makes to Stash, why it was made, and how to undo it."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import aiosqlite

from stash_sense.changes import ChangeHub, Topic
from stash_sense.store import Database

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditEntry:
    """One write the daemon made (or tried to make) to Stash."""

    id: int
    scene_id: int  # 0 for writes that concern no single scene (merges, studio updates)
    action: str  # "add_performers", "add_tags", "merge_performers", "upstream_scene", ...
    status: str  # writing, applied, failed, unknown (a crash happened mid-write)
    performer_ids: list[str]  # local ids the write added (not those already there)
    universal_ids: list[str]  # face-database ids behind them, same order
    tag_ids: list[str]
    before_ids: list[str]  # the scene's performers before the write
    reason: str  # "auto" or "review:<item id>"
    mutation_id: str
    error: str | None
    created_at: float
    undone_at: float | None
    target: str | None  # what was written: "scene:12", "performer:7", "studio:3", "tag:9"
    # Field updates: {"fields", "before", "sent", "endpoint", "stash_box_id", ...}.
    details: dict[str, Any] | None = None

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> AuditEntry:
        """Build from an `audit_log` row."""
        return cls(
            row["id"],
            row["scene_id"],
            row["action"],
            row["status"],
            json.loads(row["performer_ids"]),
            json.loads(row["universal_ids"]),
            json.loads(row["tag_ids"]),
            json.loads(row["before_ids"]),
            row["reason"],
            row["mutation_id"],
            row["error"],
            row["created_at"],
            row["undone_at"],
            row["target"],
            json.loads(row["details"]) if row["details"] else None,
        )

    def to_json(self) -> dict[str, Any]:
        """Describe the entry for the API."""
        return {
            "id": self.id,
            "scene_id": self.scene_id,
            "target": self.target,
            "action": self.action,
            "status": self.status,
            "performer_ids": self.performer_ids,
            "universal_ids": self.universal_ids,
            "tag_ids": self.tag_ids,
            "before_ids": self.before_ids,
            "reason": self.reason,
            "error": self.error,
            "created_at": self.created_at,
            "undone_at": self.undone_at,
            "details": self.details,
        }


class WriteChange(StrEnum):
    """What happened to an audit entry (the action of its `write` change)."""

    RECORDED = "recorded"  # about to be sent
    FINISHED = "finished"  # applied or failed, also when resolved after a restart
    UNDONE = "undone"


class AuditLog:
    """Record writes before they are sent and their outcome after."""

    def __init__(self, db: Database, changes: ChangeHub | None = None) -> None:
        self._db = db
        self._changes = changes

    async def _publish(self, change: WriteChange, entry_id: int) -> None:
        """Tell live views, after the change is committed, what happened to an entry."""
        if self._changes is None:
            return
        entry = await self.get(entry_id)
        if entry is not None:
            self._changes.publish(
                Topic.WRITE,
                change.value,
                {
                    "id": entry.id,
                    "target": entry.target,
                    "action": entry.action,
                    "status": entry.status,
                    "scene_id": entry.scene_id or None,
                },
            )

    async def begin(
        self,
        scene_id: int,
        action: str,
        *,
        reason: str,
        mutation_id: str,
        before_ids: Sequence[str],
        performer_ids: Sequence[str] = (),
        universal_ids: Sequence[str] = (),
        tag_ids: Sequence[str] = (),
        target: str | None = None,
        details: Mapping[str, Any] | None = None,
        write_key: str | None = None,
    ) -> int:
        """Record a write about to be sent; return its id (`target` defaults to the scene)."""
        if target is None and scene_id > 0:
            target = f"scene:{scene_id}"
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO audit_log (scene_id, action, performer_ids, universal_ids, tag_ids,"
                " before_ids, reason, mutation_id, created_at, target, details, write_key)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    scene_id,
                    action,
                    json.dumps(list(performer_ids)),
                    json.dumps(list(universal_ids)),
                    json.dumps(list(tag_ids)),
                    json.dumps(list(before_ids)),
                    reason,
                    mutation_id,
                    time.time(),
                    target,
                    json.dumps(dict(details), sort_keys=True) if details is not None else None,
                    write_key,
                ),
            )
            entry_id = int(cursor.lastrowid or 0)
        await self._publish(WriteChange.RECORDED, entry_id)
        return entry_id

    async def finish(self, entry_id: int, *, error: str | None = None) -> None:
        """Record whether the write went through."""
        await self._db.execute(
            "UPDATE audit_log SET status = ?, error = ? WHERE id = ?",
            ("failed" if error else "applied", error, entry_id),
        )
        await self._publish(WriteChange.FINISHED, entry_id)

    async def mark_undone(self, entry_id: int, mutation_id: str) -> None:
        """Record that a write was undone."""
        await self._db.execute(
            "UPDATE audit_log SET undone_at = ?, undo_mutation_id = ? WHERE id = ?",
            (time.time(), mutation_id, entry_id),
        )
        await self._publish(WriteChange.UNDONE, entry_id)

    async def recover(self) -> int:
        """Mark writes left in flight by a dead process as unknown; return how many."""
        return await self._db.execute(
            "UPDATE audit_log SET status = 'unknown' WHERE status = 'writing'"
        )

    async def unknown(self) -> list[AuditEntry]:
        """Return the entries whose outcome is unknown (interrupted writes), oldest first."""
        rows = await self._db.fetch_all(
            "SELECT * FROM audit_log WHERE status = 'unknown' ORDER BY id"
        )
        return [AuditEntry.from_row(r) for r in rows]

    async def explain(self, entry_id: int, note: str) -> None:
        """Keep an interrupted write unknown, noting why it could not be settled."""
        await self._db.execute(
            "UPDATE audit_log SET error = ? WHERE id = ? AND status = 'unknown'", (note, entry_id)
        )

    async def applied_with_key(self, write_key: str) -> AuditEntry | None:
        """Return the applied, not undone write recorded under `write_key`, if any."""
        row = await self._db.fetch_one(
            "SELECT * FROM audit_log WHERE write_key = ? AND status = 'applied'"
            " AND undone_at IS NULL ORDER BY id DESC LIMIT 1",
            (write_key,),
        )
        return AuditEntry.from_row(row) if row is not None else None

    async def get(self, entry_id: int) -> AuditEntry | None:
        """Return one entry."""
        row = await self._db.fetch_one("SELECT * FROM audit_log WHERE id = ?", (entry_id,))
        return AuditEntry.from_row(row) if row is not None else None

    async def for_scene(self, scene_id: int) -> list[AuditEntry]:
        """Return a scene's entries, oldest first."""
        rows = await self._db.fetch_all(
            "SELECT * FROM audit_log WHERE scene_id = ? ORDER BY id", (scene_id,)
        )
        return [AuditEntry.from_row(r) for r in rows]

    async def list(
        self, *, scene_id: int | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[AuditEntry], int]:
        """List entries newest first, optionally for one scene; return them and the total."""
        where, params = ("WHERE scene_id = ?", [scene_id]) if scene_id is not None else ("", [])
        total = await self._db.fetch_one(f"SELECT COUNT(*) AS n FROM audit_log {where}", params)
        rows = await self._db.fetch_all(
            f"SELECT * FROM audit_log {where} ORDER BY id DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [AuditEntry.from_row(r) for r in rows], int(total["n"]) if total else 0
