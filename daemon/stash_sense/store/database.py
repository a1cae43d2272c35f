"""Open the database with durable settings, run migrations and serialise writes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from stash_sense.store.health import StoreHealth, classify

_LOGGER = logging.getLogger(__name__)
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

Params = Sequence[Any] | dict[str, Any]


class StoreError(Exception):
    """The database cannot be used (newer schema, failed migration, unreadable file)."""


@dataclass(frozen=True)
class Migration:
    """One numbered SQL script."""

    version: int
    name: str
    sql: str


def bundled_migrations() -> list[Migration]:
    """Return the migrations shipped in the package, in order."""
    found = []
    for entry in resources.files("stash_sense.store.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    # Parallel branches reserve numbers ahead, so a gap is allowed; a duplicate never is.
    if len(set(versions)) != len(versions) or (versions and versions[0] < 1):
        raise StoreError(f"migrations are not numbered uniquely from 1: {versions}")
    return found


class Database:
    """The daemon's SQLite database: one writer connection, one reader connection.

    SQLite allows a single writer at a time; funnelling every write through one
    connection guarded by a lock means writes queue in the daemon instead of
    failing with "database is locked". WAL lets the reader run beside the writer.
    """

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout_ms: int = 5000,
        migrations: Iterable[Migration] | None = None,
    ) -> None:
        self.path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._migrations = list(migrations) if migrations is not None else None
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self.health = StoreHealth()

    async def open(self) -> None:
        """Open both connections and bring the schema up to date."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        migrations = self._migrations if self._migrations is not None else bundled_migrations()
        try:
            self._writer = await self._connect()
            await self._migrate(self._writer, migrations)
            self._reader = await self._connect()
        except BaseException:
            await self.close(checkpoint=False)
            raise

    async def close(self, *, checkpoint: bool = True) -> None:
        """Checkpoint the WAL and close the connections."""
        if checkpoint and self._writer is not None:
            try:
                await self.checkpoint()
            except sqlite3.Error as err:
                _LOGGER.warning("WAL checkpoint at close failed: %s", err)
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    async def _connect(self) -> aiosqlite.Connection:
        """Open one connection with the daemon's pragmas."""
        try:
            conn = await aiosqlite.connect(self.path, isolation_level=None)
        except sqlite3.Error as err:
            raise StoreError(f"cannot open database {self.path}: {err}") from err
        conn.row_factory = aiosqlite.Row
        # WAL + NORMAL survives application crashes; only a power loss may drop the
        # last commits, which the reconciler re-derives from Stash.
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")
        await conn.execute("PRAGMA foreign_keys=ON")
        return conn

    async def _migrate(self, conn: aiosqlite.Connection, migrations: list[Migration]) -> None:
        """Apply pending migrations; refuse a database newer than this code."""
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
        rows = await conn.execute_fetchall("SELECT version FROM schema_migrations")
        applied = {row[0] for row in rows}
        current = max(applied, default=0)
        known = migrations[-1].version if migrations else 0
        if current > known:
            raise StoreError(
                f"database {self.path} has schema version {current}, newer than the {known} "
                "this Stash Sense knows; upgrade Stash Sense (data is never downgraded)"
            )
        for migration in migrations:
            # By membership, not by the newest: a number reserved by a parallel branch may
            # arrive after a higher one was applied.
            if migration.version in applied:
                continue
            _LOGGER.info("Applying database migration %04d_%s", migration.version, migration.name)
            try:
                # executescript would commit on its own; run statements in one transaction.
                await conn.execute("BEGIN IMMEDIATE")
                for statement in _split_sql(migration.sql):
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, time.time()),
                )
                await conn.execute("COMMIT")
            except sqlite3.Error as err:
                await conn.execute("ROLLBACK")
                raise StoreError(
                    f"migration {migration.version:04d}_{migration.name} failed: {err}"
                ) from err

    async def schema_version(self) -> int:
        """Return the newest applied migration."""
        row = await self.fetch_one("SELECT MAX(version) AS v FROM schema_migrations")
        return int(row["v"] or 0) if row else 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run a write transaction on the single writer connection."""
        conn = self._require(self._writer)
        async with self._write_lock:
            try:
                await conn.execute("BEGIN IMMEDIATE")
                changes = conn.total_changes
                try:
                    yield conn
                    await conn.execute("COMMIT")
                except BaseException:
                    # A failed COMMIT (disk full) leaves the transaction open; SQLite
                    # may also have rolled it back already on its own.
                    if conn.in_transaction:
                        with contextlib.suppress(sqlite3.Error):
                            await conn.execute("ROLLBACK")
                    raise
            except Exception as err:
                problem = classify(err)
                if problem is not None:
                    self.health.failed(problem, err)
                raise
            if conn.total_changes != changes:
                # Only a write that stored something shows the store works again: a
                # claim that found no job succeeds even on a full disk.
                self.health.succeeded()

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one write statement in its own transaction; return the affected row count."""
        async with self.transaction() as conn:
            cursor = await conn.execute(sql, params)
            return cursor.rowcount

    async def fetch_all(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        """Run a read query on the reader connection."""
        conn = self._require(self._reader)
        return list(await conn.execute_fetchall(sql, params))

    async def fetch_one(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        """Run a read query and return its first row."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def checkpoint(self) -> None:
        """Fold the WAL into the main file and truncate it."""
        conn = self._require(self._writer)
        async with self._write_lock:
            await conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def ping(self) -> bool:
        """Tell whether the database answers a trivial query."""
        try:
            return await self.fetch_one("SELECT 1") is not None
        except (sqlite3.Error, StoreError, ValueError):
            return False

    @staticmethod
    def _require(conn: aiosqlite.Connection | None) -> aiosqlite.Connection:
        """Return an open connection or fail clearly."""
        if conn is None:
            raise StoreError("database is not open")
        return conn


def _split_sql(script: str) -> list[str]:
    """Split a migration script into complete statements, dropping comment-only chunks."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if not _is_blank(buffer):
                statements.append(buffer.strip())
            buffer = ""
    if not _is_blank(buffer):
        raise StoreError("migration script ends with an incomplete statement")
    return statements


def _is_blank(sql: str) -> bool:
    """Tell whether SQL text holds only whitespace and `--` comments."""
    return all(not line.strip() or line.strip().startswith("--") for line in sql.splitlines())
