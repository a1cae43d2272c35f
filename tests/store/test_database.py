"""The SQLite store: pragmas, migrations, refusal of newer schemas, serialised writes."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from stash_sense.store import Database, StoreError
from stash_sense.store.database import Migration, bundled_migrations

V1 = Migration(1, "first", "CREATE TABLE a (x INTEGER);\n-- a comment\n")
V2 = Migration(2, "second", "ALTER TABLE a ADD COLUMN y TEXT;\nCREATE TABLE b (z TEXT);")


async def test_pragmas(tmp_path: Path) -> None:
    db = Database(tmp_path / "s.db", busy_timeout_ms=1234)
    await db.open()
    try:
        for conn_rows, expected in [
            (await db.fetch_one("PRAGMA journal_mode"), "wal"),
            (await db.fetch_one("PRAGMA synchronous"), 1),  # NORMAL
            (await db.fetch_one("PRAGMA busy_timeout"), 1234),
            (await db.fetch_one("PRAGMA foreign_keys"), 1),
        ]:
            assert conn_rows is not None
            assert conn_rows[0] == expected
        assert await db.schema_version() == bundled_migrations()[-1].version
    finally:
        await db.close()


async def test_migrations_upgrade_an_old_database(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    old = Database(path, migrations=[V1])
    await old.open()
    await old.execute("INSERT INTO a (x) VALUES (42)")
    await old.close()

    new = Database(path, migrations=[V1, V2])
    await new.open()
    try:
        assert await new.schema_version() == 2
        row = await new.fetch_one("SELECT x, y FROM a")
        assert row is not None
        assert (row["x"], row["y"]) == (42, None)  # data survived, column added
        applied = await new.fetch_all("SELECT version, name FROM schema_migrations ORDER BY 1")
        assert [(r["version"], r["name"]) for r in applied] == [(1, "first"), (2, "second")]
    finally:
        await new.close()


async def test_reopen_is_a_no_op(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    for _ in range(2):
        db = Database(path, migrations=[V1, V2])
        await db.open()
        await db.close()
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT COUNT(*) FROM schema_migrations").fetchone() == (2,)
    raw.close()


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    db = Database(path, migrations=[V1, V2])
    await db.open()
    await db.close()
    old_code = Database(path, migrations=[V1])
    with pytest.raises(StoreError, match="schema version 2, newer than the 1"):
        await old_code.open()
    # Nothing was downgraded.
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT MAX(version) FROM schema_migrations").fetchone() == (2,)
    raw.close()


async def test_failed_migration_rolls_back(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    broken = Migration(2, "broken", "CREATE TABLE c (x INT);\nINSERT INTO nope VALUES (1);")
    db = Database(path, migrations=[V1, broken])
    with pytest.raises(StoreError, match="0002_broken failed"):
        await db.open()
    raw = sqlite3.connect(path)
    tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    raw.close()
    assert "c" not in tables  # the half-applied migration left nothing behind
    assert "a" in tables


async def test_concurrent_writes_do_not_fight(tmp_path: Path) -> None:
    db = Database(tmp_path / "s.db", migrations=[V1])
    await db.open()
    try:
        await asyncio.gather(
            *(db.execute("INSERT INTO a (x) VALUES (?)", (i,)) for i in range(200))
        )
        row = await db.fetch_one("SELECT COUNT(*), SUM(x) FROM a")
        assert row is not None
        assert tuple(row) == (200, sum(range(200)))
    finally:
        await db.close()


async def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    db = Database(tmp_path / "s.db", migrations=[V1])
    await db.open()
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO a (x) VALUES (1)")
                raise RuntimeError("boom")
        row = await db.fetch_one("SELECT COUNT(*) FROM a")
        assert row is not None
        assert row[0] == 0
    finally:
        await db.close()


async def test_checkpoint_truncates_wal(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    db = Database(path, migrations=[V1])
    await db.open()
    try:
        await db.execute("INSERT INTO a (x) VALUES (1)")
        wal = path.with_name(path.name + "-wal")
        assert wal.stat().st_size > 0
        await db.checkpoint()
        assert wal.stat().st_size == 0
    finally:
        await db.close()


def test_bundled_migrations_are_numbered() -> None:
    versions = [m.version for m in bundled_migrations()]
    assert versions == sorted(set(versions)) and versions[0] == 1


async def test_a_migration_filling_a_gap_is_applied_later(tmp_path: Path) -> None:
    path = tmp_path / "gap.db"
    first = [
        Migration(1, "a", "CREATE TABLE a (x INTEGER);"),
        Migration(3, "c", "CREATE TABLE c (x);"),
    ]
    db = Database(path, migrations=first)
    await db.open()
    await db.close()
    db = Database(path, migrations=[*first[:1], Migration(2, "b", "CREATE TABLE b (x);"), first[1]])
    await db.open()
    try:
        await db.execute("INSERT INTO b (x) VALUES (1)")
        assert await db.schema_version() == 3
    finally:
        await db.close()
