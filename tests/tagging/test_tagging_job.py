"""Tagging as a durable job of its own: failed writes are retried, identification never waits."""

from __future__ import annotations

from typing import Any

from stash_sense.keys import STORE
from stash_sense.queue import JobState
from tests.daemons import DaemonFactory
from tests.faces.kit import ALICE, Kit
from tests.helpers import eventually
from tests.tagging.test_tagging import identified, make_world, performers_of

WRITE = "BulkSceneUpdate"


async def test_write_failing_twice_then_succeeding_tags_the_scene_once(
    fake_stash_factory: Any, fake_stashbox_factory: Any, start_daemon: DaemonFactory, face_kit: Kit
) -> None:
    world = await make_world(fake_stash_factory, fake_stashbox_factory, start_daemon, mode="auto")
    stash, daemon = world.stash, world.daemon
    assert world.alice is not None
    # Stash answers the performer write with a 5xx twice (the client's try and its retry).
    stash.faults.http_error(503, count=2, operation=WRITE)
    scene = stash.library.add_scene(title="flaky", path=str(face_kit.alice_long))
    await daemon.session.post(
        f"{daemon.url}/api/v1/scenes/{scene.id}/identify",
        headers={"Authorization": "Bearer test-token-0123456789"},
    )
    await identified(daemon)

    assert stash.faults.injected == ["http_error", "http_error"]
    assert performers_of(stash, scene.id) == {world.alice.id}
    writes = [c for c in stash.calls if c.operation_name == WRITE]
    assert len(writes) == 1  # the failed ones never reached Stash's resolver
    applied = await daemon.rows(
        "SELECT universal_ids FROM audit_log WHERE scene_id = ? AND status = 'applied'", scene.id
    )
    assert applied == [(f'["{ALICE}"]',)]
    (tagging,) = await daemon.jobs("tag_identification")
    assert tagging.state is JobState.SUCCEEDED and tagging.attempts == 2
    (identify,) = await daemon.jobs("identify_scene")
    assert identify.attempts == 1  # the identification was not redone for the write


async def test_identification_completes_while_stash_writes_stall(
    fake_stash_factory: Any, fake_stashbox_factory: Any, start_daemon: DaemonFactory, face_kit: Kit
) -> None:
    world = await make_world(fake_stash_factory, fake_stashbox_factory, start_daemon, mode="auto")
    stash, daemon = world.stash, world.daemon
    assert world.alice is not None
    # Writes hang past the client's 2 s timeout, for the try and its retry: an outage.
    stash.faults.latency(5.0, count=2, operation=WRITE)
    scene = stash.library.add_scene(title="stalled", path=str(face_kit.alice_long))
    await daemon.session.post(
        f"{daemon.url}/api/v1/scenes/{scene.id}/identify",
        headers={"Authorization": "Bearer test-token-0123456789"},
    )

    async def write_hanging() -> bool:
        return stash.faults.injected == ["latency"]

    await eventually(write_hanging, timeout=30)
    # The write hangs in Stash, and the identification is already complete.
    (identify,) = await daemon.jobs("identify_scene")
    assert identify.state is JobState.SUCCEEDED
    assert performers_of(stash, scene.id) == set()
    (tagging,) = await daemon.jobs("tag_identification")
    assert tagging.state is JobState.RUNNING

    await identified(daemon)

    async def tagged() -> bool:
        return performers_of(stash, scene.id) == {world.alice.id}

    await eventually(tagged, timeout=20)
    (tagging,) = await daemon.jobs("tag_identification")
    # The timeouts meant "Stash is down": the job waited without counting an attempt.
    assert tagging.state is JobState.SUCCEEDED and tagging.attempts == 1


async def test_identification_never_tagged_is_tagged_by_the_next_identify(
    fake_stash_factory: Any, fake_stashbox_factory: Any, start_daemon: DaemonFactory, face_kit: Kit
) -> None:
    world = await make_world(fake_stash_factory, fake_stashbox_factory, start_daemon, mode="auto")
    stash, daemon = world.stash, world.daemon
    assert world.alice is not None
    scene = stash.library.add_scene(title="again", path=str(face_kit.alice_long))
    path = f"{daemon.url}/api/v1/scenes/{scene.id}/identify"
    headers = {"Authorization": "Bearer test-token-0123456789"}
    await daemon.session.post(path, headers=headers)
    await identified(daemon)
    # As if the process had died after storing the identification, before tagging it.
    stash.library.scene(scene.id).performer_ids.clear()
    await daemon.app[STORE].database.execute("UPDATE identifications SET tagged_at = NULL")

    await daemon.session.post(path, headers=headers)
    await identified(daemon, 2)
    assert performers_of(stash, scene.id) == {world.alice.id}
    identify = await daemon.jobs("identify_scene")
    assert identify[0].progress.message == "already identified with these models"
