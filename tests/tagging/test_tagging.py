"""Tagging end to end: identification -> auto-apply or review -> Stash, with undo and memory."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from stash_sense.identify import IDENTIFY_SCENE
from stash_sense.queue import JobState
from tests.daemons import AUTH, Daemon, DaemonFactory
from tests.faces.kit import ALICE, ALICE_LONG_SWITCH, BOB, Kit, frames_with
from tests.fakes.stash.library import Performer, StashBoxConfig
from tests.fakes.stash.server import FakeStash
from tests.fakes.stashbox.server import FakeStashBox
from tests.helpers import eventually

NUM_FRAMES = 12
ALICE_ID = ALICE.partition(":")[2]
BOB_ID = BOB.partition(":")[2]


@dataclass
class World:
    """A fake Stash and stash-box, and a daemon in between."""

    stash: FakeStash
    box: FakeStashBox
    daemon: Daemon
    alice: Performer | None
    bob: Performer | None


async def make_world(
    fake_stash_factory: Any,
    fake_stashbox_factory: Any,
    start_daemon: DaemonFactory,
    *,
    mode: str,
    bob_local: bool = True,
    **tagging: Any,
) -> World:
    box: FakeStashBox = await fake_stashbox_factory(api_key="box-key")
    box.catalogue.add_performer(
        "Bob", id=BOB_ID, disambiguation="the blue one", aliases=["Bobby"], image_count=1
    )
    stash: FakeStash = await fake_stash_factory()
    stash.library.stash_boxes.append(StashBoxConfig(endpoint=box.graphql_url, api_key="box-key"))
    alice = stash.library.add_performer("Alice", stash_ids=[(box.graphql_url, ALICE_ID)])
    bob = (
        stash.library.add_performer("Bob", stash_ids=[(box.graphql_url, BOB_ID)])
        if bob_local
        else None
    )
    daemon = await start_daemon(
        stash,
        faces={"num_frames": NUM_FRAMES},
        tagging={"mode": mode, "auto_min_confidence": 0.5, "auto_min_frames": 5, **tagging},
        # The face database says "stashdb.org"; this stash-box lives on loopback.
        stashbox={"endpoint_domains": [f"stashdb.org={box.graphql_url}"]},
    )
    return World(stash, box, daemon, alice, bob)


async def identified(daemon: Daemon, count: int = 1) -> None:
    async def done() -> bool:
        return len(await daemon.jobs(IDENTIFY_SCENE, JobState.SUCCEEDED)) >= count

    await eventually(done, timeout=30)


async def items(daemon: Daemon, **filters: str) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    async with daemon.session.get(
        f"{daemon.url}/api/v1/review/items?{query}", headers=AUTH
    ) as resp:
        assert resp.status == 200, await resp.text()
        return list((await resp.json())["items"])


async def post(daemon: Daemon, path: str, body: Any = None) -> tuple[int, Any]:
    async with daemon.session.post(f"{daemon.url}{path}", json=body, headers=AUTH) as resp:
        return resp.status, await resp.json()


async def graphql(stash: FakeStash, query: str, variables: dict[str, Any]) -> None:
    """Send a mutation as the Stash UI would: no marker, so it counts as a person's edit."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(stash.graphql_url, json={"query": query, "variables": variables}) as resp,
    ):
        body = await resp.json()
    assert "errors" not in body, body


def performers_of(stash: FakeStash, scene_id: int) -> set[int]:
    return set(stash.library.scene(scene_id).performer_ids)


async def test_auto_mode_applies_the_confident_and_asks_about_the_rest(
    fake_stash_factory: Any, fake_stashbox_factory: Any, start_daemon: DaemonFactory, face_kit: Kit
) -> None:
    world = await make_world(fake_stash_factory, fake_stashbox_factory, start_daemon, mode="auto")
    stash, daemon = world.stash, world.daemon
    assert world.alice is not None and world.bob is not None
    assert frames_with("red", NUM_FRAMES, switch=ALICE_LONG_SWITCH) >= 5
    assert frames_with("blue", NUM_FRAMES, switch=ALICE_LONG_SWITCH) < 5
    (scene,) = await stash.simulate_scan([{"title": "new", "path": str(face_kit.alice_long)}])
    await identified(daemon)

    # Alice (seen in many frames) was added in Stash, audited; no hook loop.
    assert performers_of(stash, scene.id) == {world.alice.id}
    writes = [c for c in stash.calls if c.operation_name == "BulkSceneUpdate"]
    assert len(writes) == 1
    assert writes[0].variables["input"]["performer_ids"]["mode"] == "ADD"
    async with daemon.session.get(f"{daemon.url}/api/v1/audit?scene={scene.id}", headers=AUTH) as r:
        (entry,) = (await r.json())["entries"]
    assert entry["reason"] == "auto" and entry["universal_ids"] == [ALICE]
    outcomes = await daemon.rows("SELECT outcome FROM events WHERE type = 'Scene.Update.Post'")
    assert outcomes == [("own_write",)]
    assert len(await daemon.jobs(IDENTIFY_SCENE)) == 1

    # Bob (few frames) waits for a person.
    (item,) = await items(daemon, state="pending")
    assert item["subject"] == BOB and item["scene_id"] == scene.id
    assert item["payload"]["performer_id"] == str(world.bob.id)
    status, accepted = await post(daemon, f"/api/v1/review/items/{item['id']}/accept")
    assert status == 200 and accepted["state"] == "accepted", accepted
    assert performers_of(stash, scene.id) == {world.alice.id, world.bob.id}
    status, again = await post(daemon, f"/api/v1/review/items/{item['id']}/accept")
    assert status == 200 and again["outcome"] == accepted["outcome"]
    assert len([c for c in stash.calls if c.operation_name == "BulkSceneUpdate"]) == 2

    # Undo Bob: the scene's performers are what they were before.
    status, undone = await post(daemon, f"/api/v1/audit/{accepted['outcome']['audit_id']}/undo")
    assert status == 200 and undone["undone_at"] is not None
    assert performers_of(stash, scene.id) == {world.alice.id}

    # A person removes Alice in Stash: recorded, and a forced re-identification
    # neither re-adds her nor suggests her again.
    await graphql(
        stash,
        "mutation($id: ID!) { sceneUpdate(input: {id: $id, performer_ids: []}) { id } }",
        {"id": str(scene.id)},
    )
    status, _ = await post(daemon, f"/api/v1/scenes/{scene.id}/identify?force=true")
    assert status == 202
    await identified(daemon, 2)
    assert performers_of(stash, scene.id) == set()
    assert await items(daemon, state="pending") == []
    rejected = {i["subject"]: i["decided_by"] for i in await items(daemon, state="rejected")}
    assert rejected == {ALICE: "user-edit", BOB: "user"}


async def test_missing_performer_is_created_once_on_accept(
    fake_stash_factory: Any, fake_stashbox_factory: Any, start_daemon: DaemonFactory, face_kit: Kit
) -> None:
    world = await make_world(
        fake_stash_factory, fake_stashbox_factory, start_daemon, mode="review", bob_local=False
    )
    stash, daemon = world.stash, world.daemon
    scene = stash.library.add_scene(title="two", path=str(face_kit.video))
    status, _ = await post(daemon, f"/api/v1/scenes/{scene.id}/identify")
    assert status == 202
    await identified(daemon)
    # Review mode: nothing written yet.
    assert not [c for c in stash.calls if c.operation_name == "BulkSceneUpdate"]
    pending = {i["subject"]: i for i in await items(daemon, state="pending")}
    assert set(pending) == {ALICE, BOB}
    assert pending[BOB]["payload"]["performer_id"] is None  # to be created on accept

    bob_item = pending[BOB]["id"]
    results = await asyncio.gather(
        post(daemon, f"/api/v1/review/items/{bob_item}/accept"),
        post(daemon, f"/api/v1/review/items/{bob_item}/accept"),
    )
    assert [r[0] for r in results] == [200, 200]
    created = [p for p in stash.library.performers.values() if p.name == "Bob"]
    assert len(created) == 1
    bob = created[0]
    assert bob.disambiguation == "the blue one"
    assert [(s.endpoint, s.stash_id) for s in bob.stash_ids] == [(world.box.graphql_url, BOB_ID)]
    assert performers_of(stash, scene.id) == {bob.id}
    assert results[0][1]["outcome"]["created_performer"] is True
    assert len(world.box.calls_to("FindPerformer")) == 1


async def test_rejected_suggestion_never_comes_back(
    fake_stash_factory: Any, fake_stashbox_factory: Any, start_daemon: DaemonFactory, face_kit: Kit
) -> None:
    world = await make_world(fake_stash_factory, fake_stashbox_factory, start_daemon, mode="review")
    stash, daemon = world.stash, world.daemon
    scene = stash.library.add_scene(title="two", path=str(face_kit.video))
    await post(daemon, f"/api/v1/scenes/{scene.id}/identify")
    await identified(daemon)
    pending = {i["subject"]: i["id"] for i in await items(daemon, state="pending")}
    status, body = await post(daemon, f"/api/v1/review/items/{pending[ALICE]}/reject")
    assert status == 200 and body["state"] == "rejected"
    await post(daemon, f"/api/v1/scenes/{scene.id}/identify?force=true")
    await identified(daemon, 2)
    now_pending = {i["subject"] for i in await items(daemon, state="pending")}
    assert now_pending == {BOB}
    assert not [c for c in stash.calls if c.operation_name == "BulkSceneUpdate"]


async def test_dry_run_never_writes(
    fake_stash_factory: Any, fake_stashbox_factory: Any, start_daemon: DaemonFactory, face_kit: Kit
) -> None:
    world = await make_world(
        fake_stash_factory, fake_stashbox_factory, start_daemon, mode="dry-run", marker_tags=True
    )
    stash, daemon = world.stash, world.daemon
    (scene,) = await stash.simulate_scan([{"title": "new", "path": str(face_kit.alice_long)}])
    await identified(daemon)
    queued = await items(daemon, state="pending")
    assert {i["subject"] for i in queued} == {ALICE, BOB}  # computed and queued
    status, body = await post(daemon, f"/api/v1/review/items/{queued[0]['id']}/accept")
    assert status >= 400 and "dry-run" in json.dumps(body)
    mutations = {c.operation_name for c in stash.calls if c.kind == "mutation"}
    assert mutations == set()
    assert performers_of(stash, scene.id) == set()


async def test_marker_tags_are_created_on_first_use(
    fake_stash_factory: Any, fake_stashbox_factory: Any, start_daemon: DaemonFactory, face_kit: Kit
) -> None:
    world = await make_world(
        fake_stash_factory, fake_stashbox_factory, start_daemon, mode="auto", marker_tags=True
    )
    stash, daemon = world.stash, world.daemon
    assert stash.library.tag_by_name("Stash Sense: identified") is None
    (scene,) = await stash.simulate_scan([{"title": "new", "path": str(face_kit.alice_long)}])
    await identified(daemon)

    async def tagged() -> bool:
        return len(stash.library.scene(scene.id).tag_ids) == 2

    await eventually(tagged)
    names = {stash.library.tags[t].name for t in stash.library.scene(scene.id).tag_ids}
    assert names == {"Stash Sense: identified", "Stash Sense: needs review"}
    # Our own tag write came back as a hook and was dropped like the performer write.
    outcomes = await daemon.rows("SELECT outcome FROM events WHERE type = 'Scene.Update.Post'")
    assert set(outcomes) == {("own_write",)}
