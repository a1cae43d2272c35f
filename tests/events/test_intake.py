"""Event intake end to end: hooks from a fake Stash into a running daemon."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp

from stash_sense.events.file_check import CHECK_SCENE_FILE
from stash_sense.identify import IDENTIFY_SCENE
from stash_sense.keys import STASH, STORE
from stash_sense.queue import JobState
from stash_sense.writes.ids import new_mutation_id
from tests.daemons import DaemonFactory, stop
from tests.faces.kit import Kit
from tests.fakes.stash.server import FakeStash
from tests.helpers import eventually


async def test_burst_of_creates_yields_one_job_per_scene(
    fake_stash: FakeStash, start_daemon: DaemonFactory
) -> None:
    # Stash is down for the queue's purposes: jobs stay queued while we count them.
    daemon = await start_daemon(forward_hooks=False)
    events = [{"id": i, "type": "Scene.Create.Post", "input": None} for i in range(1, 1001)]
    limit = asyncio.Semaphore(64)

    async def send(event: dict[str, object]) -> str:
        async with limit:
            status, body = await daemon.post_event(event)
        assert status == 202, body
        return str(body["status"])

    first = await asyncio.gather(*(send(e) for e in events))
    assert first.count("accepted") == 1000
    assert len(await daemon.jobs(IDENTIFY_SCENE)) == 1000
    again = await asyncio.gather(*(send(e) for e in events))
    assert again.count("duplicate") == 1000
    jobs = await daemon.jobs(IDENTIFY_SCENE)
    assert len(jobs) == 1000
    assert sorted(j.args["scene_id"] for j in jobs) == list(range(1, 1001))
    stored = await daemon.rows("SELECT COUNT(*) FROM events")
    assert stored == [(2000,)]  # every event was stored, duplicates included


async def test_created_scene_is_identified(
    fake_stash: FakeStash, start_daemon: DaemonFactory, face_kit: Kit
) -> None:
    daemon = await start_daemon(fake_stash)
    (scene,) = await fake_stash.simulate_scan(
        [{"title": "new", "oshash": "abcdef0123456789", "path": str(face_kit.video)}]
    )

    async def identified() -> bool:
        return len(await daemon.jobs(IDENTIFY_SCENE, JobState.SUCCEEDED)) == 1

    await eventually(identified)
    (job,) = await daemon.jobs(IDENTIFY_SCENE, JobState.SUCCEEDED)
    rows = await daemon.rows(
        "SELECT identified_at IS NOT NULL FROM scenes WHERE scene_id = ?", scene.id
    )
    assert rows == [(1,)]
    assert job.args == {"scene_id": scene.id, "force": False, "reason": "created"}


async def test_own_writes_are_dropped_and_user_edits_recorded(
    fake_stash: FakeStash, start_daemon: DaemonFactory
) -> None:
    scene = fake_stash.library.add_scene(title="s")
    alice = fake_stash.library.add_performer(name="Alice")
    bob = fake_stash.library.add_performer(name="Bob")
    daemon = await start_daemon(fake_stash)
    stash = daemon.app[STASH].client

    await stash.bulk_update_scenes(
        [scene.id], performer_ids=[alice.id], mode="ADD", client_mutation_id=new_mutation_id()
    )
    outcomes = await daemon.rows("SELECT type, outcome FROM events")
    assert outcomes == [("Scene.Update.Post", "own_write")]
    assert await daemon.rows("SELECT COUNT(*) FROM feedback") == [(0,)]
    assert await daemon.jobs(CHECK_SCENE_FILE) == []

    # The user removes Alice and adds Bob in the Stash UI (a sceneUpdate, no marker).
    await _graphql(
        fake_stash,
        "mutation($id: ID!, $p: [ID!]) { sceneUpdate(input: {id: $id, performer_ids: $p}) { id } }",
        {"id": str(scene.id), "p": [str(bob.id)]},
    )
    # ... and a bulk edit removing Bob.
    await _graphql(
        fake_stash,
        "mutation($ids: [ID!], $p: [ID!]) { bulkSceneUpdate(input: {ids: $ids,"
        " performer_ids: {ids: $p, mode: REMOVE}}) { id } }",
        {"ids": [str(scene.id)], "p": [str(bob.id)]},
    )
    feedback = await daemon.rows("SELECT scene_id, kind, performer_ids FROM feedback ORDER BY id")
    assert [(sid, kind, json.loads(ids)) for sid, kind, ids in feedback] == [
        (scene.id, "set", [str(bob.id)]),
        (scene.id, "remove", [str(bob.id)]),
    ]
    outcomes = await daemon.rows("SELECT outcome FROM events ORDER BY id")
    assert outcomes == [("own_write",), ("feedback",), ("feedback",)]
    assert await daemon.jobs(IDENTIFY_SCENE) == []


async def test_scan_update_rechecks_the_primary_file(
    fake_stash: FakeStash, start_daemon: DaemonFactory, face_kit: Kit
) -> None:
    daemon = await start_daemon(fake_stash)
    (scene,) = await fake_stash.simulate_scan(
        [{"title": "s", "oshash": "1111111111111111", "path": str(face_kit.video)}]
    )

    async def identified(n: int) -> bool:
        return len(await daemon.jobs(IDENTIFY_SCENE, JobState.SUCCEEDED)) == n

    async def checked() -> bool:
        return len(await daemon.jobs(CHECK_SCENE_FILE, JobState.SUCCEEDED)) == 1

    await eventually(lambda: identified(1))
    # A rescan of an unchanged file: checked, not identified again.
    await fake_stash.hooks.fire("Scene.Update.Post", scene.id)
    await eventually(checked)
    assert len(await daemon.jobs(IDENTIFY_SCENE)) == 1
    # The primary file is replaced by a different one: identified again.
    fake_stash.library.scene(scene.id).files[0] = fake_stash.library.make_file(
        path=str(face_kit.video), oshash="2222222222222222"
    )
    await fake_stash.hooks.fire("Scene.Update.Post", scene.id)
    await eventually(lambda: identified(2))
    latest = max(await daemon.jobs(IDENTIFY_SCENE), key=lambda j: j.id)
    assert latest.args["reason"] == "file changed"


async def test_destroy_cancels_queued_work(start_daemon: DaemonFactory) -> None:
    daemon = await start_daemon()  # Stash unreachable: identify jobs wait in the queue
    await daemon.post_event({"id": 5, "type": "Scene.Create.Post", "input": None})
    (job,) = await daemon.jobs(IDENTIFY_SCENE, JobState.QUEUED)
    status, body = await daemon.post_event(
        {
            "id": 5,
            "type": "Scene.Destroy.Post",
            "input": {"id": "5", "checksum": "", "oshash": "ab", "path": "/v/a.mp4"},
        }
    )
    assert (status, body["status"], body["detail"]) == (202, "accepted", "cancelled 1 jobs")
    (cancelled,) = await daemon.jobs(IDENTIFY_SCENE)
    assert cancelled.id == job.id and cancelled.state is JobState.CANCELLED
    assert await daemon.rows("SELECT deleted_at IS NOT NULL FROM scenes WHERE scene_id = 5") == [
        (1,)
    ]
    # A scene id re-used after deletion is identified again.
    _, body = await daemon.post_event({"id": 5, "type": "Scene.Create.Post", "input": None})
    assert body["status"] == "accepted"


async def test_unmapped_events_are_replayed_after_a_crash(
    start_daemon: DaemonFactory, tmp_path: Path
) -> None:
    daemon = await start_daemon()
    # Simulate a crash between storing an event and mapping it.
    await daemon.app[STORE].database.execute(
        "INSERT INTO events (received_at, type, object_id, payload) VALUES (0, ?, ?, ?)",
        ("Scene.Create.Post", 77, json.dumps({"id": 77, "type": "Scene.Create.Post"})),
    )
    await stop(daemon)
    again = await start_daemon()
    (job,) = await again.jobs(IDENTIFY_SCENE)
    assert job.args["scene_id"] == 77
    assert await again.rows("SELECT outcome FROM events WHERE object_id = 77") == [("accepted",)]


async def _graphql(fake: FakeStash, query: str, variables: dict[str, object]) -> None:
    """Send a mutation to the fake Stash as the Stash UI would (no marker)."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(fake.graphql_url, json={"query": query, "variables": variables}) as resp,
    ):
        body = await resp.json()
    assert "errors" not in body, body
