"""Upstream studio and tag changes: the performer machinery over other entity types."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stash_sense.analyzers.upstream import UpstreamStudioChanges, UpstreamTagChanges
from stash_sense.review import ReviewItem, ReviewState
from tests.analyzers.stashbox_world import World, world
from tests.fakes.stash.library import Studio as LocalStudio
from tests.fakes.stash.library import Tag as LocalTag
from tests.fakes.stashbox import Studio as BoxStudio
from tests.fakes.stashbox import Tag as BoxTag
from tests.fakes.stashbox.catalogue import Link

STUDIO = UpstreamStudioChanges.name
TAG = UpstreamTagChanges.name
STUDIO_KIND = "upstream_studio_changes"
TAG_KIND = "upstream_tag_changes"


def _changes(item: ReviewItem) -> dict[str, dict[str, Any]]:
    assert item.payload is not None
    return {c["field"]: c for c in item.payload["changes"]}


def _studios(w: World, count: int = 4) -> list[tuple[BoxStudio, LocalStudio]]:
    pairs = []
    for index in range(count):
        remote = w.box.catalogue.add_studio(
            f"Studio {index}",
            aliases=[f"S{index}"],
            urls=[Link(f"https://studio{index}.test")],
        )
        local = w.stash.library.add_studio(
            remote.name,
            stash_ids=[(w.box.graphql_url, remote.id)],
            aliases=[f"S{index}"],
            urls=[f"https://studio{index}.test"],
        )
        pairs.append((remote, local))
    return pairs


def _tags(w: World, count: int = 4) -> list[tuple[BoxTag, LocalTag]]:
    pairs = []
    for index in range(count):
        remote = w.box.catalogue.add_tag(
            f"Tag {index}", description=f"About {index}", aliases=[f"T{index}"]
        )
        local = w.stash.library.add_tag(
            remote.name,
            aliases=[f"T{index}"],
            description=f"About {index}",
            stash_ids=w.stash.library._stash_ids([(w.box.graphql_url, remote.id)]),
        )
        pairs.append((remote, local))
    return pairs


async def test_studio_first_sighting_then_change_then_accept(tmp_path: Path) -> None:
    """First run stores snapshots only; an upstream rename is proposed and applied."""
    async with world(tmp_path, [UpstreamStudioChanges]) as w:
        pairs = _studios(w)
        pairs[0][1].name = "Locally renamed"
        result = await w.run(STUDIO)
        assert result.counts["first_seen"] == len(pairs)
        assert await w.items(STUDIO_KIND) == []
        remote, local = pairs[1]
        w.box.catalogue.edit_studio(
            remote, name="Studio One", urls=[*remote.urls, Link("https://new.test")]
        )
        await w.run(STUDIO)
        (item,) = await w.items(STUDIO_KIND)
        changes = _changes(item)
        assert set(changes) == {"name", "urls"}
        assert changes["name"]["local"] == "Studio 1"
        assert changes["name"]["upstream"] == "Studio One"
        assert changes["name"]["previous"] == "Studio 1"
        done = await w.reviews.accept(item.id, options={"fields": ["name", "urls"]})
        assert done.state is ReviewState.ACCEPTED
        assert local.name == "Studio One"
        assert local.aliases == ["S1", "Studio 1"]
        assert local.urls == ["https://studio1.test", "https://new.test"]
        # In sync now: the next run proposes nothing.
        await w.run(STUDIO)
        assert await w.items(STUDIO_KIND, ReviewState.PENDING) == []


async def test_tag_ignored_fields_and_rejection(tmp_path: Path) -> None:
    """Ignored tag fields are skipped; a rejection holds until upstream changes again."""
    async with world(tmp_path, [UpstreamTagChanges], upstream_ignored_fields=["tag.aliases"]) as w:
        pairs = _tags(w)
        await w.run(TAG)
        remote, local = pairs[2]
        w.box.catalogue.edit_tag(remote, description="New words", aliases=["Other"])
        await w.run(TAG)
        (item,) = await w.items(TAG_KIND)
        changes = _changes(item)
        assert set(changes) == {"description"}
        assert changes["description"]["local"] == "About 2"
        assert changes["description"]["previous"] == "About 2"
        await w.reviews.reject(item.id)
        for full in (False, True):
            await w.run(TAG, full=full)
            assert await w.items(TAG_KIND, ReviewState.PENDING) == []
        w.box.catalogue.edit_tag(remote, description="Newer words")
        await w.run(TAG)
        (fresh,) = await w.items(TAG_KIND, ReviewState.PENDING)
        assert _changes(fresh)["description"]["previous"] == "New words"
        await w.reviews.accept(fresh.id)
        assert local.description == "Newer words"
        assert local.aliases == ["T2"]


async def test_disabled_endpoint_is_never_called(tmp_path: Path) -> None:
    """Studios and tags linked to a disabled stash-box cause no calls to it."""
    async with world(
        tmp_path, [UpstreamStudioChanges, UpstreamTagChanges], boxes=2, disabled_boxes=[0]
    ) as w:
        _studios(w, 2)
        _tags(w, 2)
        await w.run(STUDIO)
        await w.run(TAG)
        assert w.box.calls == []
