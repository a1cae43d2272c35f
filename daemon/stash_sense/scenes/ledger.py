"""The scene ledger: one row per scene the daemon was asked to handle."""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass

import aiosqlite

from stash_sense.store import Database


@dataclass(frozen=True)
class SceneRecord:
    """The daemon's memory of one scene."""

    scene_id: int
    first_seen_at: float
    requested_at: float | None
    identified_at: float | None
    file_key: str | None
    deleted_at: float | None

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> SceneRecord:
        """Build a record from a `scenes` row."""
        return cls(
            row["scene_id"],
            row["first_seen_at"],
            row["requested_at"],
            row["identified_at"],
            row["file_key"],
            row["deleted_at"],
        )


def file_key(file_id: str, oshash: str | None, md5: str | None) -> str:
    """Identify a file's content: Stash's file id plus its oshash (else md5)."""
    return f"{file_id}:{oshash or md5 or ''}"


class SceneLedger:
    """Record which scenes were requested, identified or deleted."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, scene_id: int) -> SceneRecord | None:
        """Return one scene's record."""
        row = await self._db.fetch_one("SELECT * FROM scenes WHERE scene_id = ?", (scene_id,))
        return SceneRecord.from_row(row) if row is not None else None

    async def get_many(self, scene_ids: Collection[int]) -> dict[int, SceneRecord]:
        """Return the records of several scenes, by id."""
        if not scene_ids:
            return {}
        marks = ",".join("?" * len(scene_ids))
        rows = await self._db.fetch_all(
            f"SELECT * FROM scenes WHERE scene_id IN ({marks})", tuple(scene_ids)
        )
        return {row["scene_id"]: SceneRecord.from_row(row) for row in rows}

    async def unrequested(self, scene_ids: Collection[int]) -> list[int]:
        """Return the ids among `scene_ids` that were never requested (or were deleted)."""
        known = await self.get_many(scene_ids)
        return [
            sid
            for sid in scene_ids
            if sid not in known or known[sid].requested_at is None or known[sid].deleted_at
        ]

    async def identified_count(self) -> int:
        """Count scenes with a finished identification that were not deleted since."""
        row = await self._db.fetch_one(
            "SELECT COUNT(*) AS n FROM scenes WHERE identified_at IS NOT NULL"
            " AND deleted_at IS NULL"
        )
        return int(row["n"]) if row is not None else 0

    async def mark_requested(self, scene_ids: Collection[int]) -> None:
        """Record that identification was requested for these scenes."""
        now = time.time()
        async with self._db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO scenes (scene_id, first_seen_at, requested_at) VALUES (?, ?, ?)"
                " ON CONFLICT (scene_id) DO UPDATE SET requested_at = excluded.requested_at,"
                " deleted_at = NULL",
                [(sid, now, now) for sid in scene_ids],
            )

    async def mark_identified(self, scene_id: int, key: str) -> None:
        """Record a finished identification of the scene's file."""
        now = time.time()
        await self._db.execute(
            "INSERT INTO scenes (scene_id, first_seen_at, requested_at, identified_at, file_key)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (scene_id) DO UPDATE SET"
            " identified_at = excluded.identified_at, file_key = excluded.file_key,"
            " deleted_at = NULL",
            (scene_id, now, now, now, key),
        )

    async def mark_deleted(self, scene_id: int) -> None:
        """Record that the scene was deleted in Stash."""
        now = time.time()
        await self._db.execute(
            "INSERT INTO scenes (scene_id, first_seen_at, deleted_at) VALUES (?, ?, ?)"
            " ON CONFLICT (scene_id) DO UPDATE SET deleted_at = excluded.deleted_at",
            (scene_id, now, now),
        )

    async def never_identified(self, scene_ids: Collection[int]) -> list[int]:
        """Return the ids among `scene_ids` with no finished identification."""
        known = await self.get_many(scene_ids)
        return [sid for sid in scene_ids if sid not in known or known[sid].identified_at is None]
