"""Performer edits made by people, recorded for the tagging policy."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from stash_sense.store import Database


@dataclass(frozen=True)
class Feedback:
    """One recorded performer edit on a scene."""

    id: int
    scene_id: int
    kind: str
    performer_ids: list[str]
    event_id: int | None
    created_at: float


def performer_edit(scene_input: dict[str, Any]) -> tuple[str, list[str]] | None:
    """Read a performer edit from a sceneUpdate or bulkSceneUpdate input.

    `sceneUpdate` replaces the set (kind "set"); `bulkSceneUpdate` says its mode
    (kind "set", "add" or "remove").
    """
    value = scene_input.get("performer_ids")
    if isinstance(value, list):
        return "set", [str(v) for v in value]
    if isinstance(value, dict) and isinstance(value.get("ids"), list):
        mode = str(value.get("mode") or "SET").lower()
        if mode in ("set", "add", "remove"):
            return mode, [str(v) for v in value["ids"]]
    return None


class FeedbackLog:
    """Store and read performer edits."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self, scene_id: int, kind: str, performer_ids: list[str], event_id: int | None
    ) -> int:
        """Record one edit; return its id."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO feedback (scene_id, kind, performer_ids, event_id, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (scene_id, kind, json.dumps(performer_ids), event_id, time.time()),
            )
            return int(cursor.lastrowid or 0)

    async def for_scene(self, scene_id: int) -> list[Feedback]:
        """Return a scene's edits, oldest first."""
        rows = await self._db.fetch_all(
            "SELECT * FROM feedback WHERE scene_id = ? ORDER BY id", (scene_id,)
        )
        return [
            Feedback(
                r["id"],
                r["scene_id"],
                r["kind"],
                json.loads(r["performer_ids"]),
                r["event_id"],
                r["created_at"],
            )
            for r in rows
        ]
