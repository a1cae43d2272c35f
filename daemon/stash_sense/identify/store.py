"""Identification results and their face crops, in the store and the data dir."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from stash_sense.changes import ChangeHub, Topic
from stash_sense.faces.result import SceneResult
from stash_sense.store import Database

_LOGGER = logging.getLogger(__name__)
KEEP_PER_SCENE = 3  # older identifications of a scene are pruned, with their crops


@dataclass(frozen=True)
class Identification:
    """A stored identification."""

    id: int
    scene_id: int
    file_key: str
    pipeline_version: str
    forced: bool
    result: dict[str, Any]
    created_at: float

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Identification:
        """Build from an `identifications` row."""
        return cls(
            row["id"],
            row["scene_id"],
            row["file_key"],
            row["pipeline_version"],
            bool(row["forced"]),
            json.loads(row["result"]),
            row["created_at"],
        )


class IdentificationStore:
    """Save results and serve their crops by id (never by path)."""

    def __init__(
        self,
        db: Database,
        crops_dir: Path,
        *,
        max_crop_bytes: int,
        changes: ChangeHub | None = None,
    ) -> None:
        self._db = db
        self._changes = changes
        self.crops_dir = crops_dir
        self._max_crop_bytes = max_crop_bytes

    async def latest(self, scene_id: int) -> Identification | None:
        """Return the newest identification of a scene."""
        row = await self._db.fetch_one(
            "SELECT * FROM identifications WHERE scene_id = ? ORDER BY id DESC LIMIT 1",
            (scene_id,),
        )
        return Identification.from_row(row) if row is not None else None

    async def latest_results(
        self, scene_ids: Collection[int], *, chunk: int = 500
    ) -> dict[int, dict[str, Any]]:
        """Return the newest stored result (SceneResult JSON) of each of these scenes."""
        ids = sorted(set(scene_ids))
        out: dict[int, dict[str, Any]] = {}
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            marks = ",".join("?" * len(part))
            rows = await self._db.fetch_all(
                "SELECT i.scene_id, i.result FROM identifications i JOIN"
                " (SELECT scene_id, MAX(id) AS id FROM identifications"
                f" WHERE scene_id IN ({marks}) GROUP BY scene_id) latest ON i.id = latest.id",
                part,
            )
            out.update((int(r["scene_id"]), json.loads(r["result"])) for r in rows)
        return out

    async def save(
        self, scene_id: int, file_key: str, version: str, result: SceneResult, *, forced: bool
    ) -> int:
        """Store a result and its crops; return the identification id."""
        now = time.time()
        crops: list[tuple[int, Any, bytes]] = []
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO identifications (scene_id, file_key, pipeline_version, forced,"
                " persons, identified, result, created_at) VALUES (?, ?, ?, ?, ?, ?, '{}', ?)",
                (
                    scene_id,
                    file_key,
                    version,
                    int(forced),
                    len(result.persons),
                    len(result.identified),
                    now,
                ),
            )
            ident_id = int(cursor.lastrowid or 0)
            for person in result.persons:
                for face in person.evidence:
                    if face.crop_jpeg is None:
                        continue
                    cursor = await conn.execute(
                        "INSERT INTO face_crops (identification_id, scene_id, person_index,"
                        " timestamp, size_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                        (
                            ident_id,
                            scene_id,
                            person.index,
                            face.timestamp,
                            len(face.crop_jpeg),
                            now,
                        ),
                    )
                    face.crop_id = int(cursor.lastrowid or 0)
                    crops.append((face.crop_id, face, face.crop_jpeg))
            await conn.execute(
                "UPDATE identifications SET result = ? WHERE id = ?",
                (json.dumps(result.to_json(), separators=(",", ":")), ident_id),
            )
        await asyncio.to_thread(self._write_crops, [(cid, data) for cid, _, data in crops])
        await self._prune_scene(scene_id)
        await self.enforce_cap()
        if self._changes is not None:
            self._changes.publish(
                Topic.IDENTIFICATION,
                "saved",
                {
                    "scene_id": scene_id,
                    "identification_id": ident_id,
                    "persons": len(result.persons),
                    "identified": len(result.identified),
                },
            )
        return ident_id

    def _write_crops(self, crops: list[tuple[int, bytes]]) -> None:
        """Write crop files (in a thread: disk I/O)."""
        self.crops_dir.mkdir(parents=True, exist_ok=True)
        for crop_id, data in crops:
            (self.crops_dir / f"{crop_id}.jpg").write_bytes(data)

    async def crop(self, crop_id: int) -> bytes | None:
        """Return a crop's JPEG bytes, or None if it is unknown or pruned."""
        row = await self._db.fetch_one("SELECT id FROM face_crops WHERE id = ?", (crop_id,))
        if row is None:
            return None
        path = self.crops_dir / f"{int(row['id'])}.jpg"
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def _prune_scene(self, scene_id: int) -> None:
        """Keep only the newest identifications of a scene."""
        rows = await self._db.fetch_all(
            "SELECT id FROM identifications WHERE scene_id = ? ORDER BY id DESC LIMIT -1 OFFSET ?",
            (scene_id, KEEP_PER_SCENE),
        )
        for row in rows:
            await self._delete_identification(int(row["id"]))

    async def _delete_identification(self, ident_id: int) -> None:
        """Delete an identification, its crop rows and crop files."""
        crops = await self._db.fetch_all(
            "SELECT id FROM face_crops WHERE identification_id = ?", (ident_id,)
        )
        await self._db.execute("DELETE FROM identifications WHERE id = ?", (ident_id,))
        await asyncio.to_thread(self._unlink, [int(r["id"]) for r in crops])

    async def enforce_cap(self) -> int:
        """Delete the oldest crops while their total size exceeds the cap; return how many."""
        row = await self._db.fetch_one("SELECT COALESCE(SUM(size_bytes), 0) AS n FROM face_crops")
        total = int(row["n"]) if row else 0
        if total <= self._max_crop_bytes:
            return 0
        excess = total - self._max_crop_bytes
        rows = await self._db.fetch_all(
            "SELECT id, size_bytes FROM face_crops ORDER BY id LIMIT 10000"
        )
        doomed: list[int] = []
        for r in rows:
            if excess <= 0:
                break
            doomed.append(int(r["id"]))
            excess -= int(r["size_bytes"])
        marks = ",".join("?" * len(doomed))
        await self._db.execute(f"DELETE FROM face_crops WHERE id IN ({marks})", doomed)
        await asyncio.to_thread(self._unlink, doomed)
        _LOGGER.info("Pruned %d face crops to stay under the size cap", len(doomed))
        return len(doomed)

    def _unlink(self, crop_ids: list[int]) -> None:
        """Remove crop files (in a thread)."""
        for crop_id in crop_ids:
            (self.crops_dir / f"{crop_id}.jpg").unlink(missing_ok=True)
