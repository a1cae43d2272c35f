"""Lookups by id: performers (missing, deleted, merged) and scenes, parsed into dataclasses."""

from __future__ import annotations

import uuid

import pytest

from stash_sense.stashbox import StashBoxQueryError, StashBoxUrl
from tests.fakes.stashbox import FakeStashBox, Image, Link

from .conftest import ClientFactory


async def test_find_performer_parses_every_field(
    fake_stashbox: FakeStashBox, make_client: ClientFactory
) -> None:
    performer = fake_stashbox.catalogue.add_performer(
        "Jane Doe",
        disambiguation="II",
        aliases=["J. Doe", "Janie"],
        gender="FEMALE",
        country="NL",
        images=[Image("https://img/1.jpg", 600, 900), Image("https://img/2.jpg", 300, 450)],
        urls=[Link("https://twitter.com/jane", "Twitter")],
    )
    client = await make_client(fake_stashbox)

    found = await client.find_performer(performer.id)

    assert found is not None
    assert (found.id, found.name, found.disambiguation) == (performer.id, "Jane Doe", "II")
    assert found.aliases == ("J. Doe", "Janie")
    assert (found.gender, found.country, found.deleted, found.merged_into_id) == (
        "FEMALE",
        "NL",
        False,
        None,
    )
    assert [(i.url, i.width, i.height) for i in found.images] == [
        ("https://img/1.jpg", 600, 900),
        ("https://img/2.jpg", 300, 450),
    ]
    assert found.images[0].id == performer.images[0].id
    assert found.urls == (StashBoxUrl("https://twitter.com/jane", "Twitter"),)
    assert found.merged_from is None
    call = fake_stashbox.calls_to("FindPerformer")[0]
    assert call.variables == {"id": performer.id}
    assert call.api_key == fake_stashbox.api_key


async def test_missing_performer_is_none(
    fake_stashbox: FakeStashBox, make_client: ClientFactory
) -> None:
    client = await make_client(fake_stashbox)
    assert await client.find_performer(str(uuid.uuid4())) is None


async def test_merged_performer_follows_one_hop(
    fake_stashbox: FakeStashBox, make_client: ClientFactory
) -> None:
    catalogue = fake_stashbox.catalogue
    old, middle, newest = (catalogue.add_performer(n) for n in ("Old", "Middle", "Newest"))
    catalogue.merge_performers(old, middle)
    catalogue.merge_performers(middle, newest)
    client = await make_client(fake_stashbox)

    found = await client.find_performer(old.id)

    # One hop: the middle performer, itself merged on, is what comes back.
    assert found is not None
    assert (found.id, found.merged_from, found.merged_into_id) == (middle.id, old.id, newest.id)
    assert len(fake_stashbox.calls_to("FindPerformer")) == 2
    unfollowed = await client.find_performer(old.id, follow_merge=False)
    assert unfollowed is not None and unfollowed.deleted and unfollowed.merged_into_id == middle.id


async def test_deleted_or_dangling_merge_returns_the_original(
    fake_stashbox: FakeStashBox, make_client: ClientFactory
) -> None:
    catalogue = fake_stashbox.catalogue
    deleted = catalogue.add_performer("Gone", deleted=True)
    dangling = catalogue.add_performer("Dangling", deleted=True, merged_into_id=str(uuid.uuid4()))
    client = await make_client(fake_stashbox)

    found = await client.find_performer(deleted.id)
    assert found is not None and found.deleted and found.merged_into_id is None
    original = await client.find_performer(dangling.id)
    assert original is not None and original.id == dangling.id and original.merged_from is None


async def test_find_scene_parses_every_field(
    fake_stashbox: FakeStashBox, make_client: ClientFactory
) -> None:
    catalogue = fake_stashbox.catalogue
    jane = catalogue.add_performer("Jane")
    john = catalogue.add_performer("John")
    studio = catalogue.add_studio("Acme")
    scene = catalogue.add_scene(
        "Title",
        code="AC-1",
        release_date="2024-05-06",
        duration=1800,
        studio=studio,
        performers=[jane, (john, "Johnny")],
        fingerprints=[("PHASH", "00a1b2c3d4e5f607"), ("OSHASH", "0123456789abcdef", 1799)],
        urls=["https://acme/scene/1"],
    )
    client = await make_client(fake_stashbox)

    found = await client.find_scene(scene.id)

    assert found is not None
    assert (found.id, found.title, found.code, found.release_date, found.duration) == (
        scene.id,
        "Title",
        "AC-1",
        "2024-05-06",
        1800,
    )
    assert found.studio is not None and (found.studio.id, found.studio.name) == (studio.id, "Acme")
    assert [(p.performer_id, p.name, p.as_name) for p in found.performers] == [
        (jane.id, "Jane", None),
        (john.id, "John", "Johnny"),
    ]
    # stash-box pads every hash to 16 digits; phash comes back in Stash's unpadded form.
    assert [(f.algorithm, f.hash, f.duration) for f in found.fingerprints] == [
        ("PHASH", "a1b2c3d4e5f607", 1800),
        ("OSHASH", "0123456789abcdef", 1799),
    ]
    assert found.urls == ("https://acme/scene/1",)
    assert await client.find_scene(str(uuid.uuid4())) is None


async def test_malformed_id_is_a_query_error_without_retry(
    fake_stashbox: FakeStashBox, make_client: ClientFactory
) -> None:
    client = await make_client(fake_stashbox)
    with pytest.raises(StashBoxQueryError, match="incorrect UUID") as caught:
        await client.find_scene("42")
    assert caught.value.endpoint == fake_stashbox.graphql_url
    assert caught.value.operation == "FindScene"
    assert len(fake_stashbox.calls) == 1


async def test_version(fake_stashbox: FakeStashBox, make_client: ClientFactory) -> None:
    client = await make_client(fake_stashbox)
    assert await client.version() == fake_stashbox.version
