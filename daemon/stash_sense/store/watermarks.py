"""Named progress markers of incremental passes, kept in the store."""

from __future__ import annotations

import time

from stash_sense.store.database import Database


class Watermarks:
    """Read and advance named watermarks."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, name: str) -> str | None:
        """Return a watermark's value, or None if it was never set."""
        row = await self._db.fetch_one("SELECT value FROM watermarks WHERE name = ?", (name,))
        return None if row is None else str(row["value"])

    async def set(self, name: str, value: str) -> None:
        """Set a watermark."""
        await self._db.execute(
            "INSERT INTO watermarks (name, value, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at",
            (name, value, time.time()),
        )

    async def delete(self, name: str) -> None:
        """Forget a watermark (the next pass starts over)."""
        await self._db.execute("DELETE FROM watermarks WHERE name = ?", (name,))
