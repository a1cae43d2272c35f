"""Upstream scene changes: the generic upstream machinery over a scene's simple fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stash_sense.analyzers.upstream import UpstreamSceneChanges
from stash_sense.review import ReviewItem, ReviewState
from tests.analyzers.stashbox_world import World, world
from tests.fakes.stash.library import Scene as LocalScene
from tests.fakes.stashbox.catalogue import Link
from tests.fakes.stashbox.catalogue import Scene as BoxScene

SCENES = UpstreamSceneChanges.name
KIND = "upstream_scene_changes"


def _changes(item: ReviewItem) -> dict[str, dict[str, Any]]:
    assert item.payload is not None
    return {c["field"]: c for c in item.payload["changes"]}


def _scenes(w: World, count: int = 3) -> list[tuple[BoxScene, LocalScene]]:
    pairs = []
    for index in range(count):
        remote = w.box.catalogue.add_scene(
            f"Scene {index}",
            release_date=f"2024-01-0{index + 1}",
            details=f"About scene {index}",
            code=f"C{index}",
            director="Someone",
            urls=[f"https://scene{index}.test"],
        )
        local = w.stash.library.add_scene(
            title=f"Scene {index}",
            date=f"2024-01-0{index + 1}",
            details=f"About scene {index}",
            code=f"C{index}",
            director="Someone",
            urls=[f"https://scene{index}.test"],
            stash_ids=[(w.box.graphql_url, remote.id)],
        )
        pairs.append((remote, local))
    return pairs


async def test_first_sighting_then_change_then_accept(tmp_path: Path) -> None:
    """First run stores snapshots only; upstream title/date/URL edits are proposed and applied."""
    async with world(tmp_path, [UpstreamSceneChanges]) as w:
        pairs = _scenes(w)
        result = await w.run(SCENES)
        assert result.counts["first_seen"] == len(pairs)
        assert await w.items(KIND) == []
        remote, local = pairs[1]
        w.box.catalogue.edit_scene(
            remote,
            title="Scene One",
            release_date="2024-02-02",
            urls=[*remote.urls, Link("https://new.test")],
        )
        await w.run(SCENES)
        (item,) = await w.items(KIND)
        assert item.payload is not None
        assert item.payload["entity_type"] == "scene"
        assert item.payload["local_id"] == str(local.id)
        assert item.payload["local_name"] == "Scene 1"
        changes = _changes(item)
        assert set(changes) == {"title", "date", "urls"}
        assert changes["title"]["local"] == "Scene 1"
        assert changes["title"]["upstream"] == "Scene One"
        assert changes["title"]["previous"] == "Scene 1"
        assert changes["date"]["local"] == "2024-01-02"
        assert changes["date"]["upstream"] == "2024-02-02"
        assert changes["date"]["previous"] == "2024-01-02"
        done = await w.reviews.accept(item.id, options={"fields": ["title", "date", "urls"]})
        assert done.state is ReviewState.ACCEPTED
        assert local.title == "Scene One"
        assert local.date == "2024-02-02"
        assert local.urls == ["https://scene1.test", "https://new.test"]
        assert local.details == "About scene 1"
        # In sync now: the next run proposes nothing.
        await w.run(SCENES)
        assert await w.items(KIND, ReviewState.PENDING) == []


async def test_accept_is_idempotent_and_partial(tmp_path: Path) -> None:
    """Accepting only some fields writes those; fields already equal are not sent."""
    async with world(tmp_path, [UpstreamSceneChanges]) as w:
        pairs = _scenes(w, 1)
        await w.run(SCENES)
        remote, local = pairs[0]
        w.box.catalogue.edit_scene(remote, code="NEW-1", director="Another")
        await w.run(SCENES)
        (item,) = await w.items(KIND)
        assert set(_changes(item)) == {"code", "director"}
        local.code = "NEW-1"  # the user already took the code by hand
        await w.reviews.accept(item.id, options={"fields": ["code", "director"]})
        assert local.code == "NEW-1"
        assert local.director == "Another"
        rows = await w.db.fetch_all(
            "SELECT json_extract(details, '$.sent') AS sent FROM audit_log"
            " WHERE action = 'upstream_scene'"
        )
        assert [json.loads(r["sent"]) for r in rows] == [{"director": "Another"}]


async def test_ignored_field_and_rejection(tmp_path: Path) -> None:
    """Ignored scene fields are skipped; a rejection holds until upstream changes again."""
    async with world(
        tmp_path, [UpstreamSceneChanges], upstream_ignored_fields=["scene.details"]
    ) as w:
        pairs = _scenes(w)
        await w.run(SCENES)
        remote, local = pairs[2]
        w.box.catalogue.edit_scene(remote, title="Renamed", details="New words")
        await w.run(SCENES)
        (item,) = await w.items(KIND)
        changes = _changes(item)
        assert set(changes) == {"title"}
        assert changes["title"]["previous"] == "Scene 2"
        await w.reviews.reject(item.id)
        for full in (False, True):
            await w.run(SCENES, full=full)
            assert await w.items(KIND, ReviewState.PENDING) == []
        w.box.catalogue.edit_scene(remote, title="Renamed again")
        await w.run(SCENES)
        (fresh,) = await w.items(KIND, ReviewState.PENDING)
        assert _changes(fresh)["title"]["previous"] == "Renamed"
        await w.reviews.accept(fresh.id)
        assert local.title == "Renamed again"
        assert local.details == "About scene 2"


async def test_disabled_endpoint_is_never_called(tmp_path: Path) -> None:
    """Scenes linked to a disabled stash-box cause no calls to it."""
    async with world(tmp_path, [UpstreamSceneChanges], boxes=2, disabled_boxes=[0]) as w:
        _scenes(w, 2)
        await w.run(SCENES)
        assert w.box.calls == []
