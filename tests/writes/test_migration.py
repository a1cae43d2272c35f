"""Migration 0009 folds `upstream_writes` into the audit log, keeping the history."""

from __future__ import annotations

import json
import time
from pathlib import Path

from stash_sense.daemon import DB_FILE
from stash_sense.store import Database
from stash_sense.store.database import bundled_migrations
from tests.daemons import AUTH, DaemonFactory


async def _database_at_0008(path: Path) -> None:
    """Write a database as release 0008 left it: a tagging write and two upstream writes."""
    db = Database(path, migrations=[m for m in bundled_migrations() if m.version <= 8])
    await db.open()
    now = time.time()
    await db.execute(
        "INSERT INTO audit_log (scene_id, action, status, performer_ids, universal_ids, reason,"
        " mutation_id, created_at, target) VALUES (5, 'add_performers', 'applied', '[\"3\"]',"
        " '[\"stashdb.org:a\"]', 'auto', 'stash-sense:1', ?, 'scene:5')",
        (now - 30,),
    )
    await db.execute(
        "INSERT INTO audit_log (scene_id, action, status, reason, mutation_id, created_at, target)"
        " VALUES (0, 'upstream_studio', 'applied', 'review:8: upstream name from Box',"
        " 'stash-sense:2', ?, 'studio:4')",
        (now - 20,),
    )
    write = (
        "INSERT INTO upstream_writes (entity_type, local_id, endpoint, stash_box_id,"
        " review_item_id, fields, before, sent, status, error, created_at, audit_id)"
        " VALUES (?, ?, 'https://box.example/graphql', ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    await db.execute(
        write,
        (
            "studio",
            "4",
            "s-4",
            8,
            '["name"]',
            '{"name": "Old"}',
            '{"name": "New"}',
            "applied",
            None,
            now - 20,
            2,
        ),
    )
    # Written before audit entries covered upstream writes: no audit entry of its own.
    await db.execute(
        write,
        (
            "performer",
            "7",
            "p-7",
            6,
            '["name", "country"]',
            '{"name": "Jane", "country": null}',
            '{"name": "Jane Doe", "country": "DE"}',
            "failed",
            "performerUpdate: boom",
            now - 60,
            None,
        ),
    )
    await db.close()


async def test_upstream_writes_history_is_kept_in_the_audit_api(
    start_daemon: DaemonFactory, tmp_path: Path
) -> None:
    await _database_at_0008(tmp_path / "data" / DB_FILE)
    daemon = await start_daemon()
    tables = await daemon.rows("SELECT name FROM sqlite_master WHERE name = 'upstream_writes'")
    assert tables == []
    async with daemon.session.get(f"{daemon.url}/api/v1/audit", headers=AUTH) as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body["total"] == 3
    by_target = {e["target"]: e for e in body["entries"]}
    assert set(by_target) == {"scene:5", "studio:4", "performer:7"}
    assert by_target["scene:5"]["details"] is None
    assert by_target["scene:5"]["performer_ids"] == ["3"]
    studio = by_target["studio:4"]
    assert studio["id"] == 2 and studio["status"] == "applied"
    assert studio["details"]["before"] == {"name": "Old"}
    assert studio["details"]["sent"] == {"name": "New"}
    assert studio["details"]["review_item_id"] == 8
    performer = by_target["performer:7"]
    assert performer["action"] == "upstream_performer"
    assert performer["scene_id"] == 0
    assert performer["status"] == "failed"
    assert performer["error"] == "performerUpdate: boom"
    assert (
        performer["reason"] == "review:6: upstream name, country from https://box.example/graphql"
    )
    assert performer["details"]["sent"] == {"name": "Jane Doe", "country": "DE"}
    assert performer["details"]["fields"] == ["name", "country"]
    assert json.dumps(performer["details"]["before"]) == '{"name": "Jane", "country": null}'
