"""Upstream as the user last saw it: rows of `upstream_snapshots`."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stash_sense.review.models import dumps
from stash_sense.stashbox import (
    normalize_endpoint,
)
from stash_sense.store import Database


@dataclass(frozen=True)
class Snapshot:
    """Upstream as the user last saw it."""

    data: dict[str, Any]
    seen_at: float


class SnapshotStore:
    """Rows of `upstream_snapshots`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def for_endpoint(self, entity: str, endpoint: str) -> dict[str, Snapshot]:
        """Return the snapshots of one endpoint by stash-box id."""
        rows = await self._db.fetch_all(
            "SELECT stash_box_id, data, seen_at FROM upstream_snapshots"
            " WHERE entity_type = ? AND endpoint = ?",
            (entity, normalize_endpoint(endpoint)),
        )
        return {r["stash_box_id"]: Snapshot(json.loads(r["data"]), r["seen_at"]) for r in rows}

    async def put(
        self,
        entity: str,
        *,
        endpoint: str,
        stash_box_id: str,
        local_id: str,
        data: Mapping[str, Any],
        upstream_updated: str | None,
    ) -> None:
        """Store a snapshot (first sighting, or fields that came into agreement)."""
        now = time.time()
        await self._db.execute(
            "INSERT INTO upstream_snapshots (entity_type, endpoint, stash_box_id, local_id, data,"
            " upstream_updated, seen_at, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (entity_type, endpoint, stash_box_id) DO UPDATE SET"
            " local_id = excluded.local_id, data = excluded.data,"
            " upstream_updated = excluded.upstream_updated, checked_at = excluded.checked_at",
            (
                entity,
                normalize_endpoint(endpoint),
                stash_box_id,
                local_id,
                dumps(dict(data)),
                upstream_updated,
                now,
                now,
            ),
        )

    async def advance(
        self,
        entity: str,
        endpoint: str,
        stash_box_id: str,
        seen: Mapping[str, Any],
        decided_at: float,
    ) -> bool:
        """Move the fields a user decided on to the values they saw; older decisions lose."""
        key = (entity, normalize_endpoint(endpoint), stash_box_id)
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT data, seen_at FROM upstream_snapshots"
                " WHERE entity_type = ? AND endpoint = ? AND stash_box_id = ?",
                key,
            ) as cursor:
                row = await cursor.fetchone()
            if row is None or row["seen_at"] >= decided_at:
                return False
            data = {**json.loads(row["data"]), **seen}
            await conn.execute(
                "UPDATE upstream_snapshots SET data = ?, seen_at = ?"
                " WHERE entity_type = ? AND endpoint = ? AND stash_box_id = ?",
                (dumps(data), decided_at, *key),
            )
        return True
