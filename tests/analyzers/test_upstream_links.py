"""Upstream link changes: a scene's studio, performers and tags, and a studio's parent."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stash_sense.analyzers.upstream import UpstreamSceneChanges, UpstreamStudioChanges
from stash_sense.review import ReviewItem, ReviewState
from tests.analyzers.stashbox_world import World, world
from tests.fakes.stash.library import Performer as LocalPerformer
from tests.fakes.stash.library import Scene as LocalScene
from tests.fakes.stash.library import Studio as LocalStudio
from tests.fakes.stash.library import Tag as LocalTag
from tests.fakes.stashbox.catalogue import Appearance
from tests.fakes.stashbox.catalogue import Performer as BoxPerformer
from tests.fakes.stashbox.catalogue import Scene as BoxScene
from tests.fakes.stashbox.catalogue import Studio as BoxStudio
from tests.fakes.stashbox.catalogue import Tag as BoxTag

SCENES = UpstreamSceneChanges.name
STUDIOS = UpstreamStudioChanges.name
SCENE_KIND = "upstream_scene_changes"
STUDIO_KIND = "upstream_studio_changes"


def _changes(item: ReviewItem) -> dict[str, dict[str, Any]]:
    assert item.payload is not None
    return {c["field"]: c for c in item.payload["changes"]}


def _names(refs: list[dict[str, Any]]) -> set[str]:
    return {r["name"] for r in refs}


@dataclass
class Cast:
    """Upstream entities and their local counterparts for one linked scene."""

    remote: BoxScene
    local: LocalScene
    box_performers: dict[str, BoxPerformer]
    performers: dict[str, LocalPerformer]
    box_studios: dict[str, BoxStudio]
    studios: dict[str, LocalStudio]
    box_tags: dict[str, BoxTag]
    tags: dict[str, LocalTag]


def _cast(w: World) -> Cast:
    """Plant a scene linked on both sides, with performers, studios and tags around it.

    Upstream knows Anna, Bea, Cleo and Dana; locally Anna and Bea are linked by stash id,
    Cleo exists unlinked (found by name), Dana does not exist. Studios One and Two and
    tags Old and New are linked on both sides.
    """
    url = w.box.graphql_url
    cat, lib = w.box.catalogue, w.stash.library
    box_performers = {n: cat.add_performer(n) for n in ("Anna", "Bea", "Cleo", "Dana")}
    performers = {
        n: lib.add_performer(n, stash_ids=[(url, box_performers[n].id)]) for n in ("Anna", "Bea")
    }
    performers["Cleo"] = lib.add_performer("Cleo")
    box_studios = {n: cat.add_studio(n) for n in ("One", "Two")}
    studios = {n: lib.add_studio(n, stash_ids=[(url, box_studios[n].id)]) for n in box_studios}
    box_tags = {n: cat.add_tag(n) for n in ("Old", "New")}
    tags = {n: lib.add_tag(n, stash_ids=lib._stash_ids([(url, box_tags[n].id)])) for n in box_tags}
    remote = cat.add_scene(
        "Linked",
        studio=box_studios["One"],
        performers=[box_performers["Anna"]],
        tags=[box_tags["Old"]],
    )
    local = lib.add_scene(
        title="Linked",
        studio=studios["One"],
        performers=[performers["Anna"]],
        tags=[tags["Old"]],
        stash_ids=[(url, remote.id)],
    )
    return Cast(remote, local, box_performers, performers, box_studios, studios, box_tags, tags)


def _recast(w: World, c: Cast) -> None:
    """Upstream: studio One → Two, Anna out, Bea, Cleo and Dana (as "D") in, tag Old → New."""
    w.box.catalogue.edit_scene(
        c.remote,
        studio=c.box_studios["Two"],
        performers=[
            Appearance(c.box_performers["Bea"]),
            Appearance(c.box_performers["Cleo"]),
            Appearance(c.box_performers["Dana"], "D"),
        ],
        tags=[c.box_tags["New"]],
    )


async def test_scene_links_are_proposed_resolved_and_applied(tmp_path: Path) -> None:
    """Added links resolve to local entities (stash id, then name); accepting applies all."""
    async with world(tmp_path, [UpstreamSceneChanges]) as w:
        c = _cast(w)
        first = await w.run(SCENES)
        assert first.counts["first_seen"] == 1
        _recast(w, c)
        await w.run(SCENES)
        (item,) = await w.items(SCENE_KIND)
        assert item.scene_id == c.local.id  # filed under its scene
        changes = _changes(item)
        assert set(changes) == {"studio", "performers", "tags"}

        studio = changes["studio"]
        assert studio["local"]["name"] == "One"
        assert studio["upstream"] == {"id": c.box_studios["Two"].id, "name": "Two"}
        assert studio["added"][0]["local_id"] == str(c.studios["Two"].id)
        assert studio["removed"][0]["local_id"] == str(c.studios["One"].id)

        performers = changes["performers"]
        added = {r["name"]: r for r in performers["added"]}
        assert set(added) == {"Bea", "Cleo", "Dana"}
        assert added["Bea"]["local_id"] == str(c.performers["Bea"].id)
        assert added["Bea"]["matched_by"] == "stash_id"
        assert added["Cleo"]["local_id"] == str(c.performers["Cleo"].id)
        assert added["Cleo"]["matched_by"] == "name"
        assert added["Dana"]["local_id"] is None
        assert added["Dana"]["as"] == "D"
        assert _names(performers["removed"]) == {"Anna"}

        tags = changes["tags"]
        assert _names(tags["added"]) == {"New"}
        assert _names(tags["removed"]) == {"Old"}

        done = await w.reviews.accept(item.id)
        assert done.state is ReviewState.ACCEPTED
        assert c.local.studio_id == c.studios["Two"].id
        assert set(c.local.performer_ids) == {c.performers["Bea"].id, c.performers["Cleo"].id}
        assert c.local.tag_ids == [c.tags["New"].id]
        assert done.outcome is not None
        assert [r["name"] for r in done.outcome["unmatched"]] == ["Dana"]

        # Audited as a scene write, marked as the daemon's own for the hook.
        entries, _ = await w.audit.list(scene_id=c.local.id)
        (entry,) = entries
        assert entry.action == "upstream_scene"
        assert entry.target == f"scene:{c.local.id}"
        assert entry.status == "applied"
        assert entry.before_ids == [str(c.performers["Anna"].id)]
        assert set(entry.performer_ids) == {str(c.performers[n].id) for n in ("Bea", "Cleo")}
        assert entry.tag_ids == [str(c.tags["New"].id)]
        (row,) = await w.db.fetch_all(
            "SELECT id AS audit_id, json_extract(details, '$.before') AS before, status"
            " FROM audit_log WHERE details IS NOT NULL"
        )
        assert row["audit_id"] == entry.id
        assert json.loads(row["before"])["performer_ids"] == [str(c.performers["Anna"].id)]
        (hook,) = [
            h["args"]["hookContext"]
            for h in w.stash.hooks.fired
            if h["args"]["hookContext"]["type"] == "Scene.Update.Post"
        ]
        assert str(hook["input"]["clientMutationId"]).startswith("stash-sense:")

        # Dana is still upstream and not local, but the user has decided: no new item.
        await w.run(SCENES)
        await w.run(SCENES, full=True)
        assert await w.items(SCENE_KIND, ReviewState.PENDING) == []


async def test_keep_local_links_and_choose_fields(tmp_path: Path) -> None:
    """`remove_links: false` only adds; fields left out are not written."""
    async with world(tmp_path, [UpstreamSceneChanges]) as w:
        c = _cast(w)
        await w.run(SCENES)
        _recast(w, c)
        await w.run(SCENES)
        (item,) = await w.items(SCENE_KIND)
        await w.reviews.accept(item.id, options={"fields": ["performers"], "remove_links": False})
        assert set(c.local.performer_ids) == {c.performers[n].id for n in ("Anna", "Bea", "Cleo")}
        assert c.local.studio_id == c.studios["One"].id
        assert c.local.tag_ids == [c.tags["Old"].id]


async def test_moves_local_already_made_are_not_proposed(tmp_path: Path) -> None:
    """Upstream changes that local made by hand need no item; only the rest is proposed."""
    async with world(tmp_path, [UpstreamSceneChanges]) as w:
        c = _cast(w)
        await w.run(SCENES)
        # The user moved the scene to studio Two and swapped the tags already.
        c.local.studio_id = c.studios["Two"].id
        c.local.tag_ids = [c.tags["New"].id]
        w.tick()
        w.stash.library.touch(c.local)
        _recast(w, c)
        await w.run(SCENES)
        (item,) = await w.items(SCENE_KIND)
        assert set(_changes(item)) == {"performers"}


async def test_local_divergence_is_left_alone(tmp_path: Path) -> None:
    """Links the user changed locally while upstream stayed put are not reported."""
    async with world(tmp_path, [UpstreamSceneChanges]) as w:
        c = _cast(w)
        await w.run(SCENES)
        c.local.performer_ids = [c.performers["Bea"].id]
        c.local.studio_id = None
        w.tick()
        w.stash.library.touch(c.local)
        await w.run(SCENES)
        await w.run(SCENES, full=True)
        assert await w.items(SCENE_KIND) == []


async def test_scene_item_retires_when_local_catches_up(tmp_path: Path) -> None:
    """A pending scene item is superseded once local matches upstream by hand."""
    async with world(tmp_path, [UpstreamSceneChanges]) as w:
        c = _cast(w)
        await w.run(SCENES)
        w.box.catalogue.edit_scene(c.remote, tags=[c.box_tags["Old"], c.box_tags["New"]])
        await w.run(SCENES)
        (item,) = await w.items(SCENE_KIND)
        assert set(_changes(item)) == {"tags"}
        c.local.tag_ids = [c.tags["Old"].id, c.tags["New"].id]
        w.tick()
        w.stash.library.touch(c.local)
        await w.run(SCENES)
        (retired,) = await w.items(SCENE_KIND)
        assert retired.state is ReviewState.SUPERSEDED


async def test_studio_parent(tmp_path: Path) -> None:
    """A new upstream parent links to the local studio; a cleared one is cleared on accept."""
    async with world(tmp_path, [UpstreamStudioChanges]) as w:
        url = w.box.graphql_url
        cat, lib = w.box.catalogue, w.stash.library
        network = cat.add_studio("Network")
        local_network = lib.add_studio("Network", stash_ids=[(url, network.id)])
        child = cat.add_studio("Child")
        local_child = lib.add_studio("Child", stash_ids=[(url, child.id)])
        await w.run(STUDIOS)
        cat.edit_studio(child, parent=network)
        await w.run(STUDIOS)
        (item,) = await w.items(STUDIO_KIND)
        parent = _changes(item)["parent"]
        assert parent["local"] is None
        assert parent["added"] == [
            {
                "id": network.id,
                "name": "Network",
                "local_id": str(local_network.id),
                "matched_by": "stash_id",
            }
        ]
        await w.reviews.accept(item.id)
        assert local_child.parent_id == local_network.id
        entries, _ = await w.audit.list()
        assert [(e.action, e.target, e.scene_id) for e in entries] == [
            ("upstream_studio", f"studio:{local_child.id}", 0)
        ]

        cat.edit_studio(child, parent=None)
        await w.run(STUDIOS)
        (cleared,) = await w.items(STUDIO_KIND, ReviewState.PENDING)
        assert _names(_changes(cleared)["parent"]["removed"]) == {"Network"}
        await w.reviews.accept(cleared.id)
        assert local_child.parent_id is None


async def test_parent_unknown_locally_is_reported_not_written(tmp_path: Path) -> None:
    """A parent with no local studio (by stash id or name) is shown as unmatched."""
    async with world(tmp_path, [UpstreamStudioChanges]) as w:
        url = w.box.graphql_url
        cat, lib = w.box.catalogue, w.stash.library
        child = cat.add_studio("Child")
        local_child = lib.add_studio("Child", stash_ids=[(url, child.id)])
        await w.run(STUDIOS)
        cat.edit_studio(child, parent=cat.add_studio("Elsewhere"))
        await w.run(STUDIOS)
        (item,) = await w.items(STUDIO_KIND)
        done = await w.reviews.accept(item.id)
        assert local_child.parent_id is None
        assert done.outcome is not None
        assert done.outcome["written"] == []
        assert [r["name"] for r in done.outcome["unmatched"]] == ["Elsewhere"]
        assert await w.db.fetch_all("SELECT id FROM audit_log") == []


async def test_create_missing_links_once(tmp_path: Path) -> None:
    """`create_missing` creates absent performers, studios and tags from stash-box, once."""
    async with world(tmp_path, [UpstreamSceneChanges]) as w:
        c = _cast(w)
        cat, lib = w.box.catalogue, w.stash.library
        other = cat.add_scene("Other", performers=[c.box_performers["Anna"]])
        lib.add_scene(
            title="Other",
            performers=[c.performers["Anna"]],
            stash_ids=[(w.box.graphql_url, other.id)],
        )
        await w.run(SCENES)
        new_studio = cat.add_studio("Brand New", urls=[])
        new_tag = cat.add_tag("Fresh", description="Just made")
        _recast(w, c)
        cat.edit_scene(c.remote, studio=new_studio, tags=[c.box_tags["New"], new_tag])
        cat.edit_scene(other, performers=[Appearance(c.box_performers["Dana"])])
        await w.run(SCENES)
        items = await w.items(SCENE_KIND)
        assert len(items) == 2
        for item in items:
            await w.reviews.accept(item.id, options={"create_missing": True})
        (dana,) = [p for p in lib.performers.values() if p.name == "Dana"]
        assert [(s.endpoint, s.stash_id) for s in dana.stash_ids] == [
            (w.box.graphql_url, c.box_performers["Dana"].id)
        ]
        assert dana.id in c.local.performer_ids
        assert lib.studios[c.local.studio_id or 0].name == "Brand New"
        fresh = lib.tag_by_name("Fresh")
        assert fresh is not None and fresh.description == "Just made"
        assert set(c.local.tag_ids) == {c.tags["New"].id, fresh.id}
        done = await w.reviews.get(items[0].id)
        assert done is not None and done.outcome is not None
        assert "unmatched" not in done.outcome
