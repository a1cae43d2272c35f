"""The writer: audited sends, writes never sent twice, undo, and what it publishes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from stash_sense.changes import Change, ChangeHub, Subscription, Topic
from stash_sense.config import StashConfig
from stash_sense.stash.client import StashClient
from stash_sense.stash.errors import StashError
from stash_sense.store import Database
from stash_sense.writes import AuditLog, Mutation, StashWriter, WriteChange
from tests.fakes.stash.server import FakeStash


@dataclass
class Kit:
    """A writer on the fake Stash, its audit log, and what the log published."""

    writer: StashWriter
    audit: AuditLog
    changes: Subscription


@pytest.fixture
async def kit(fake_stash: FakeStash, tmp_path: Path) -> AsyncIterator[Kit]:
    db = Database(tmp_path / "sense.db")
    await db.open()
    hub = ChangeHub()
    changes = hub.subscribe([Topic.WRITE])
    audit = AuditLog(db, hub)
    async with StashClient(StashConfig(url=fake_stash.url, max_retries=1)) as client:
        yield Kit(StashWriter(client, audit), audit, changes)
    await db.close()


async def test_a_write_already_applied_is_not_sent_again(fake_stash: FakeStash, kit: Kit) -> None:
    studio = fake_stash.library.add_studio("Old")
    rename = Mutation("UpstreamStudioUpdate", {"input": {"id": str(studio.id), "name": "New"}})
    first = await kit.writer.send(
        rename, scene_id=0, action="upstream_studio", reason="review:3", once=True
    )
    assert studio.name == "New"
    studio.name = "Changed by a person"
    again = await kit.writer.send(
        rename, scene_id=0, action="upstream_studio", reason="review:3", once=True
    )
    assert again == first
    assert studio.name == "Changed by a person"
    entries, total = await kit.audit.list()
    assert total == 1 and entries[0].status == "applied"


async def test_additions_are_add_mode_and_undone(fake_stash: FakeStash, kit: Kit) -> None:
    lib = fake_stash.library
    alice, bob = lib.add_performer("Alice"), lib.add_performer("Bob")
    scene = lib.add_scene(title="S", performers=[alice.id])
    entry = await kit.writer.add_performers(
        scene.id, [(str(alice.id), "x:a"), (str(bob.id), "x:b")], reason="auto"
    )
    assert entry is not None
    assert entry.performer_ids == [str(bob.id)] and entry.before_ids == [str(alice.id)]
    assert sorted(scene.performer_ids) == sorted([alice.id, bob.id])
    # Everything already there: nothing is sent, nothing recorded.
    assert await kit.writer.add_performers(scene.id, [(str(bob.id), "x:b")], reason="auto") is None
    undone = await kit.writer.undo(entry.id)
    assert undone.undone_at is not None
    assert scene.performer_ids == [alice.id]
    published = []
    for _ in range(3):
        change = await kit.changes.next()
        assert isinstance(change, Change)
        published.append((change.action, change.data["id"], change.data["status"]))
    assert published == [
        (WriteChange.RECORDED, entry.id, "writing"),
        (WriteChange.FINISHED, entry.id, "applied"),
        (WriteChange.UNDONE, entry.id, "applied"),
    ]
    assert change.data["target"] == f"scene:{scene.id}"


async def test_a_failed_write_is_recorded_failed(fake_stash: FakeStash, kit: Kit) -> None:
    missing = Mutation("UpstreamTagUpdate", {"input": {"id": "424242", "name": "X"}})
    with pytest.raises(StashError):
        await kit.writer.send(missing, scene_id=0, action="upstream_tag", reason="review:1")
    (entry,), _ = await kit.audit.list()
    assert entry.status == "failed" and entry.error
