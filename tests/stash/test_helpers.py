"""Typed helpers against the fake Stash's library."""

from __future__ import annotations

from tests.fakes.stash import FakeStash, StashBoxConfig
from tests.fakes.stash.fixtures import FakeStashFactory

from .conftest import SECRET, ClientFactory

STASHDB = "https://stashdb.org/graphql"


async def test_find_scene_parses_everything(
    fake_stash_factory: FakeStashFactory, make_client: ClientFactory
) -> None:
    fake = await fake_stash_factory(api_key=SECRET)
    performer = fake.library.add_performer("Jane", stash_ids=[(STASHDB, "uuid-jane")])
    scene = fake.library.add_scene(
        title="t",
        performers=[performer.id],
        tags=["Outdoor"],
        stash_ids=[(STASHDB, "uuid-scene")],
        duration=123.5,
        width=1280,
        height=720,
        frame_rate=25.0,
        phash="00ab",
    )
    client = await make_client(fake)
    found = await client.find_scene(scene.id)
    assert found is not None
    assert found.id == str(scene.id)
    assert not found.organized
    video = found.primary_file
    assert video is not None
    assert (video.width, video.height, video.duration, video.frame_rate) == (1280, 720, 123.5, 25.0)
    assert video.basename == f"scene-{scene.id}.mp4"
    assert video.fingerprint("phash") == "ab"
    assert video.fingerprint("oshash")
    assert video.fingerprint("md5") is None
    assert [(p.id, p.name) for p in found.performers] == [(str(performer.id), "Jane")]
    assert found.performers[0].stash_ids[0].stash_id == "uuid-jane"
    assert [t.name for t in found.tags] == ["Outdoor"]
    assert found.stash_ids[0].endpoint == STASHDB
    # Stash puts the key into the stream URL; the dataclass repr must not show it.
    assert found.paths.stream is not None and SECRET in found.paths.stream
    assert SECRET not in repr(found)


async def test_missing_scene_is_none(fake_stash: FakeStash, make_client: ClientFactory) -> None:
    client = await make_client(fake_stash)
    assert await client.find_scene(999) is None


async def test_find_scenes_pages_through_a_filter(
    fake_stash: FakeStash, make_client: ClientFactory
) -> None:
    for day in (1, 2, 3, 4):
        fake_stash.library.add_scene(created_at=f"2026-01-0{day}T10:00:00+02:00")
    client = await make_client(fake_stash)
    since = {"created_at": {"value": "2026-01-01T12:00:00+02:00", "modifier": "GREATER_THAN"}}
    first = await client.find_scenes_page(page=1, per_page=2, scene_filter=since)
    second = await client.find_scenes_page(page=2, per_page=2, scene_filter=since)
    assert first.count == 3
    ids = [s.id for s in (*first.scenes, *second.scenes)]
    assert ids == ["2", "3", "4"]
    assert first.scenes[0].created_at.startswith("2026-01-02T10:00:00")
    assert first.scenes[0].files[0].fingerprint("oshash")


async def test_bulk_add_performers_keeps_existing(
    fake_stash: FakeStash, make_client: ClientFactory
) -> None:
    lib = fake_stash.library
    old, new = lib.add_performer("Old"), lib.add_performer("New")
    scenes = [lib.add_scene(performers=[old.id]), lib.add_scene()]
    client = await make_client(fake_stash)
    links = await client.bulk_add_performers(
        [s.id for s in scenes], [new.id], client_mutation_id="stash-sense:job-7"
    )
    assert sorted(links[0].performer_ids) == sorted([str(old.id), str(new.id)])
    assert links[1].performer_ids == (str(new.id),)
    sent = fake_stash.calls[-1].variables["input"]
    assert sent["clientMutationId"] == "stash-sense:job-7"
    assert sent["performer_ids"] == {"ids": [str(new.id)], "mode": "ADD"}


async def test_bulk_add_tags(fake_stash: FakeStash, make_client: ClientFactory) -> None:
    tag = fake_stash.library.add_tag("Face: unknown")
    scene = fake_stash.library.add_scene()
    client = await make_client(fake_stash)
    links = await client.bulk_add_tags([scene.id], [tag.id])
    assert links[0].tag_ids == (str(tag.id),)


async def test_find_performers_by_stash_id(
    fake_stash: FakeStash, make_client: ClientFactory
) -> None:
    jane = fake_stash.library.add_performer("Jane", stash_ids=[(STASHDB, "uuid-jane")])
    fake_stash.library.add_performer("Other", stash_ids=[(STASHDB, "uuid-other")])
    client = await make_client(fake_stash)
    found = await client.find_performers_by_stash_id(STASHDB, "uuid-jane")
    assert [p.id for p in found] == [str(jane.id)]
    assert await client.find_performers_by_stash_id(STASHDB, "uuid-nobody") == []


async def test_ensure_tag_creates_once(fake_stash: FakeStash, make_client: ClientFactory) -> None:
    client = await make_client(fake_stash)
    assert await client.find_tag_by_name("Face: matched") is None
    created = await client.ensure_tag("Face: matched")
    again = await client.ensure_tag("Face: matched")
    assert created == again
    assert created.name == "Face: matched"
    assert [t.name for t in fake_stash.library.tags.values()] == ["Face: matched"]


async def test_stash_boxes_hide_their_keys_in_repr(
    fake_stash: FakeStash, make_client: ClientFactory
) -> None:
    fake_stash.library.stash_boxes.append(
        StashBoxConfig(endpoint=STASHDB, api_key="box-key-123", name="StashDB")
    )
    client = await make_client(fake_stash)
    boxes = await client.stash_boxes()
    assert [(b.endpoint, b.name, b.max_requests_per_minute) for b in boxes] == [
        (STASHDB, "StashDB", 240)
    ]
    assert boxes[0].api_key == "box-key-123"
    assert "box-key-123" not in repr(boxes)


async def test_version_falls_back_to_hash(
    fake_stash_factory: FakeStashFactory, make_client: ClientFactory
) -> None:
    fake = await fake_stash_factory(version="", version_hash="deadbee")
    client = await make_client(fake)
    assert await client.version() == "deadbee"
