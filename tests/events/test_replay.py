"""Events stored before a stop are replayed at start-up with every listener attached."""

from __future__ import annotations

import json
import sqlite3
import time

from stash_sense.keys import REVIEW, STORE
from stash_sense.review import ReviewState
from stash_sense.tagging.suggestion import KIND, PerformerSuggestion, payload_json
from tests.daemons import DaemonFactory, stop
from tests.faces.kit import ALICE
from tests.fakes.stash.server import FakeStash


async def test_event_replayed_at_start_up_reaches_tagging(
    fake_stash: FakeStash, start_daemon: DaemonFactory
) -> None:
    first = await start_daemon(fake_stash, tagging={"mode": "review"})
    suggestion = PerformerSuggestion(
        universal_id=ALICE,
        name="Alice",
        endpoint="stashdb.org",
        stash_id=ALICE.partition(":")[2],
        performer_id=None,
        confidence=0.9,
        frames=9,
        identification_id=1,
    )
    upserted = await first.app[REVIEW].queue.upsert(
        KIND, scene_id=7, subject=ALICE, payload=payload_json(suggestion), confidence=0.9
    )
    item_id = upserted.item.id
    db_path = first.app[STORE].database.path
    await stop(first)

    # The scene's deletion was stored, but the process stopped before mapping it.
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "INSERT INTO events (received_at, type, object_id, payload) VALUES (?, ?, ?, ?)",
            (
                time.time(),
                "Scene.Destroy.Post",
                7,
                json.dumps({"id": 7, "type": "Scene.Destroy.Post"}),
            ),
        )
    conn.close()

    second = await start_daemon(fake_stash, tagging={"mode": "review"})
    item = await second.app[REVIEW].queue.get(item_id)
    assert item is not None and item.state is ReviewState.EXPIRED
    outcomes = await second.rows("SELECT outcome FROM events WHERE object_id = 7")
    assert outcomes == [("accepted",)]
