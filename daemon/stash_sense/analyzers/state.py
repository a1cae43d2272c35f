"""Analyzer rows: watermark, private state, last outcome and schedule override."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import aiosqlite

from stash_sense.store import Database


@dataclass(frozen=True)
class AnalyzerState:
    """A snapshot of one `analyzer_state` row (defaults when there is none yet)."""

    name: str
    logic_version: int | None = None
    watermark: str | None = None
    state: dict[str, Any] | None = None
    last_job_id: int | None = None
    last_run_at: float | None = None
    last_success_at: float | None = None
    last_error: str | None = None
    last_counts: dict[str, int] | None = None
    schedule: str | None = None
    enabled: bool | None = None

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> AnalyzerState:
        """Build from a row."""
        return cls(
            name=row["name"],
            logic_version=row["logic_version"],
            watermark=row["watermark"],
            state=json.loads(row["state"]),
            last_job_id=row["last_job_id"],
            last_run_at=row["last_run_at"],
            last_success_at=row["last_success_at"],
            last_error=row["last_error"],
            last_counts=json.loads(row["last_counts"]) if row["last_counts"] else None,
            schedule=row["schedule"],
            enabled=None if row["enabled"] is None else bool(row["enabled"]),
        )


# Creates the row when missing so every update below is one statement.
_ENSURE = "INSERT INTO analyzer_state (name, updated_at) VALUES (?, ?) ON CONFLICT DO NOTHING"


class AnalyzerStateStore:
    """All SQL about analyzer rows."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, name: str) -> AnalyzerState:
        """Return an analyzer's row, or an empty one."""
        row = await self._db.fetch_one("SELECT * FROM analyzer_state WHERE name = ?", (name,))
        return AnalyzerState.from_row(row) if row is not None else AnalyzerState(name)

    async def all(self) -> dict[str, AnalyzerState]:
        """Return every row by name."""
        rows = await self._db.fetch_all("SELECT * FROM analyzer_state")
        return {r["name"]: AnalyzerState.from_row(r) for r in rows}

    async def _update(self, name: str, assignments: str, params: tuple[Any, ...]) -> None:
        """Create the row if needed and apply one UPDATE to it, in one transaction."""
        now = time.time()
        async with self._db.transaction() as conn:
            await conn.execute(_ENSURE, (name, now))
            await conn.execute(
                f"UPDATE analyzer_state SET {assignments}, updated_at = ? WHERE name = ?",
                (*params, now, name),
            )

    async def started(self, name: str, job_id: int | None, *, reset_to: int | None = None) -> None:
        """Record that a run began; `reset_to` a new logic version also drops the watermark."""
        await self._update(
            name, "last_job_id = ?, last_run_at = ?, last_error = NULL", (job_id, time.time())
        )
        if reset_to is not None:
            await self._update(name, "logic_version = ?, watermark = NULL", (reset_to,))

    async def save_progress(self, name: str, watermark: str | None, state: dict[str, Any]) -> None:
        """Persist the watermark and private state of a run in progress."""
        await self._update(name, "watermark = ?, state = ?", (watermark, _dumps(state)))

    async def succeeded(
        self,
        name: str,
        *,
        logic_version: int,
        watermark: str | None,
        state: dict[str, Any],
        counts: dict[str, int],
    ) -> None:
        """Record a successful run: its logic version, final watermark and counts."""
        await self._update(
            name,
            "logic_version = ?, watermark = ?, state = ?, last_success_at = ?, last_counts = ?,"
            " last_error = NULL",
            (logic_version, watermark, _dumps(state), time.time(), _dumps(counts)),
        )

    async def failed(self, name: str, error: str) -> None:
        """Record why the last run failed."""
        await self._update(name, "last_error = ?", (error,))

    async def set_schedule(self, name: str, schedule: str | None, enabled: bool | None) -> None:
        """Persist a schedule override (None: back to the configured one)."""
        await self._update(
            name,
            "schedule = ?, enabled = ?",
            (schedule, None if enabled is None else int(enabled)),
        )


def _dumps(data: Any) -> str:
    """Serialise JSON compactly and canonically."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))
