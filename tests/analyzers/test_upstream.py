"""Upstream performer changes: 3-way diff, decisions, incremental runs, accept, endpoints."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Any

import pytest

from stash_sense.analyzers.upstream import KIND, UpstreamPerformerChanges
from stash_sense.analyzers.upstream_fields import (
    PERFORMER_FIELDS,
    diff_fields,
    local_performer,
    normalize_date,
    parse_career_length,
    parse_measurements,
    performer_update_input,
    upstream_performer,
    values_equal,
)
from stash_sense.review import InvalidOptions, ReviewItem, ReviewState
from tests.analyzers.stashbox_world import World, world
from tests.fakes.stash.library import Performer as LocalPerformer
from tests.fakes.stashbox import BodyModification, FakeStashBox
from tests.fakes.stashbox import Performer as BoxPerformer

NAME = UpstreamPerformerChanges.name


def _box_performer(box: FakeStashBox, index: int, rng: random.Random) -> BoxPerformer:
    return box.catalogue.add_performer(
        f"Performer {index}",
        aliases=[f"Alias {index}"],
        gender="FEMALE",
        country="US",
        birth_date=f"199{index % 10}-0{1 + index % 9}-15",
        ethnicity="CAUCASIAN",
        eye_color="BLUE",
        hair_color="BRUNETTE",
        height=160 + rng.randrange(20),
        cup_size="C",
        band_size=34,
        waist_size=24,
        hip_size=35,
        breast_type="NATURAL",
        career_start_year=2015,
        tattoos=[BodyModification("Left wrist", "Star")],
    )


def _local_copy(w: World, box: FakeStashBox, p: BoxPerformer) -> LocalPerformer:
    """Add a local performer that mirrors the stash-box one, the way Stash scrapes it."""
    return w.stash.library.add_performer(
        p.name,
        stash_ids=[(box.graphql_url, p.id)],
        aliases=list(p.aliases),
        gender=p.gender,
        country=p.country,
        birthdate=p.birth_date,
        ethnicity="Caucasian",
        eye_color="Blue",
        hair_color="Brunette",
        height_cm=p.height,
        measurements="34C-24-35",
        fake_tits="Natural",
        career_length="2015-",
        tattoos="Left wrist: Star",
    )


def _library(w: World, count: int = 12) -> list[tuple[BoxPerformer, LocalPerformer]]:
    rng = random.Random(7)
    pairs = []
    for index in range(count):
        remote = _box_performer(w.box, index, rng)
        pairs.append((remote, _local_copy(w, w.box, remote)))
    return pairs


def _changes(item: ReviewItem) -> dict[str, dict[str, Any]]:
    assert item.payload is not None
    return {c["field"]: c for c in item.payload["changes"]}


def _calls(box: FakeStashBox, name: str) -> int:
    return len(box.calls_to(name))


# ---------------------------------------------------------------- field mapping


def test_field_normalisation_and_equality() -> None:
    """Dates, measurements, careers, enums, aliases and URLs compare the way people mean."""
    assert normalize_date("1990") == "1990-01-01"
    assert normalize_date("1990-05") == "1990-05-01"
    assert normalize_date("1990-05-02T00:00:00Z") == "1990-05-02"
    assert parse_measurements("38F-24-35") == {
        "band_size": 38,
        "cup_size": "F",
        "waist_size": 24,
        "hip_size": 35,
    }
    assert parse_measurements("32DD") == {
        "band_size": 32,
        "cup_size": "DD",
        "waist_size": None,
        "hip_size": None,
    }
    assert parse_career_length("2010-2023") == (2010, 2023)
    assert parse_career_length("2010 - present") == (2010, None)
    assert values_equal("ethnicity", "simple", "MIDDLE_EASTERN", "Middle Eastern")
    assert values_equal("aliases", "alias_list", ["A", "b", "Name"], ["B", "a"], own_name="name")
    assert values_equal("urls", "alias_list", ["https://x.test/a/"], ["https://X.test/a"])
    assert values_equal("country", "simple", None, "")
    up = upstream_performer(
        {"name": "N", "birth_date": "1990", "height": 170, "tattoos": [{"location": "Arm"}]}
    )
    local = local_performer(
        {"name": "N", "birthdate": "1990-01-01", "height_cm": 170, "tattoos": "Arm"}
    )
    assert diff_fields(PERFORMER_FIELDS, local, up, up, PERFORMER_FIELDS) == []


def test_update_input_merges_components_and_lists() -> None:
    """Chosen measurement parts and career years merge with what local has; aliases union."""
    current = {
        "name": "Old",
        "alias_list": ["Keep"],
        "measurements": "34C-24-35",
        "career_length": "2015-",
        "urls": ["https://a.test"],
    }
    upstream = {
        "name": "New",
        "aliases": ["Other", "new"],
        "cup_size": "D",
        "career_end_year": 2020,
        "urls": ["https://a.test/", "https://b.test"],
    }
    update = performer_update_input(
        current, upstream, ["name", "aliases", "cup_size", "career_end_year", "urls"]
    )
    assert update["name"] == "New"
    assert update["alias_list"] == ["Keep", "Other", "Old"]
    assert update["measurements"] == "34D-24-35"
    assert update["career_length"] == "2015-2020"
    assert update["urls"] == ["https://a.test", "https://b.test"]


# ---------------------------------------------------------------- the analyzer


async def test_first_sighting_stores_snapshots_without_items(tmp_path: Path) -> None:
    """Linked performers get a snapshot on the first run; local divergence is not news."""
    async with world(tmp_path, [UpstreamPerformerChanges]) as w:
        pairs = _library(w)
        # A person set a different height locally before the first run.
        pairs[0][1].height_cm = 199
        result = await w.run(NAME)
        assert result.counts["first_seen"] == len(pairs)
        assert await w.items(KIND) == []
        await w.run(NAME, full=True)
        assert await w.items(KIND) == []


async def test_upstream_edit_is_proposed_with_three_values(tmp_path: Path) -> None:
    """An upstream edit becomes one item with local, upstream and previous upstream values."""
    async with world(tmp_path, [UpstreamPerformerChanges]) as w:
        pairs = _library(w)
        await w.run(NAME)
        remote, local = pairs[3]
        old_height = remote.height
        w.box.catalogue.edit_performer(remote, height=181, hair_color="BLONDE")
        await w.run(NAME)
        (item,) = await w.items(KIND)
        assert item.subject == f"{w.box.graphql_url}|{remote.id}"
        assert item.scene_id is None
        changes = _changes(item)
        assert set(changes) == {"height", "hair_color"}
        assert changes["height"]["local"] == old_height
        assert changes["height"]["upstream"] == 181
        assert changes["height"]["previous"] == old_height
        assert changes["hair_color"]["local"] == "Brunette"
        assert item.payload is not None and item.payload["local_id"] == str(local.id)


async def test_incremental_run_fetches_only_what_changed(tmp_path: Path) -> None:
    """After a full run, one listing call finds the changed performers; none fetched singly."""
    async with world(tmp_path, [UpstreamPerformerChanges]) as w:
        pairs = _library(w)
        await w.run(NAME)
        single = _calls(w.box, "UpstreamPerformer")
        assert single == len(pairs)
        listing = _calls(w.box, "UpstreamPerformersUpdated")
        await w.run(NAME)
        assert _calls(w.box, "UpstreamPerformer") == single
        assert _calls(w.box, "UpstreamPerformersUpdated") == listing + 1
        w.box.catalogue.edit_performer(pairs[5][0], country="CA")
        await w.run(NAME)
        assert _calls(w.box, "UpstreamPerformer") == single
        (item,) = await w.items(KIND)
        assert set(_changes(item)) == {"country"}
        # A newly linked local performer is picked up by the next incremental run.
        w.tick()
        extra = _box_performer(w.box, 99, random.Random(1))
        w.box.catalogue.performers[extra.id].updated = "2000-01-01T00:00:00Z"
        _local_copy(w, w.box, extra)
        result = await w.run(NAME)
        assert result.counts["first_seen"] == 1
        assert _calls(w.box, "UpstreamPerformer") == single + 1


async def test_rejected_change_stays_dismissed_until_upstream_changes_again(
    tmp_path: Path,
) -> None:
    """A rejection advances the snapshot: the same change never returns, a new one does."""
    async with world(tmp_path, [UpstreamPerformerChanges]) as w:
        pairs = _library(w)
        await w.run(NAME)
        remote, _ = pairs[2]
        w.box.catalogue.edit_performer(remote, height=150)
        await w.run(NAME)
        (item,) = await w.items(KIND)
        await w.reviews.reject(item.id)
        for full in (False, True):
            await w.run(NAME, full=full)
            assert await w.items(KIND, ReviewState.PENDING) == []
        w.box.catalogue.edit_performer(remote, eye_color="GREEN")
        await w.run(NAME)
        (fresh,) = await w.items(KIND, ReviewState.PENDING)
        assert set(_changes(fresh)) == {"eye_color"}
        # The rejected height changes again upstream: that is news too.
        await w.reviews.reject(fresh.id)
        w.box.catalogue.edit_performer(remote, height=152)
        await w.run(NAME)
        (again,) = await w.items(KIND, ReviewState.PENDING)
        assert _changes(again)["height"]["upstream"] == 152
        assert _changes(again)["height"]["previous"] == 150


async def test_accept_applies_chosen_fields_like_stash(tmp_path: Path) -> None:
    """Accept writes the chosen fields with performerUpdate; later accepts change nothing."""
    async with world(tmp_path, [UpstreamPerformerChanges]) as w:
        pairs = _library(w)
        await w.run(NAME)
        remote, local = pairs[1]
        w.box.catalogue.edit_performer(
            remote, name="Renamed", cup_size="D", career_end_year=2024, aliases=["Alias 1", "New"]
        )
        await w.run(NAME)
        (item,) = await w.items(KIND)
        assert set(_changes(item)) == {"name", "cup_size", "career_end_year", "aliases"}
        with pytest.raises(InvalidOptions):
            await w.reviews.accept(item.id, options={"fields": ["height"]})
        done = await w.reviews.accept(
            item.id, options={"fields": ["name", "cup_size", "career_end_year", "aliases"]}
        )
        assert done.state is ReviewState.ACCEPTED
        assert local.name == "Renamed"
        assert local.measurements == "34D-24-35"
        assert local.career_length == "2015-2024"
        assert local.alias_list == ["Alias 1", "New", f"Performer {1}"]
        rows = await w.db.fetch_all(
            "SELECT status, json_extract(details, '$.fields') AS fields FROM audit_log"
        )
        assert [r["status"] for r in rows] == ["applied"]
        # In sync now: nothing to propose, and a later upstream edit is proposed again.
        await w.run(NAME)
        assert await w.items(KIND, ReviewState.PENDING) == []
        w.box.catalogue.edit_performer(remote, country="DE")
        await w.run(NAME)
        (fresh,) = await w.items(KIND, ReviewState.PENDING)
        assert set(_changes(fresh)) == {"country"}


async def test_partial_accept_and_local_fix_retire_the_item(tmp_path: Path) -> None:
    """Fields accepted leave the rest seen; a person fixing Stash by hand retires the item."""
    async with world(tmp_path, [UpstreamPerformerChanges]) as w:
        pairs = _library(w)
        await w.run(NAME)
        remote, local = pairs[4]
        w.box.catalogue.edit_performer(remote, country="FR")
        await w.run(NAME)
        (item,) = await w.items(KIND)
        w.tick()
        local.country = "FR"
        w.stash.library.touch(local)
        await w.run(NAME)
        current = await w.reviews.get(item.id)
        assert current is not None and current.state is ReviewState.SUPERSEDED


async def test_ignored_fields_and_disabled_endpoints(tmp_path: Path) -> None:
    """Ignored fields are never proposed; a disabled endpoint is never called."""
    async with world(
        tmp_path,
        [UpstreamPerformerChanges],
        boxes=2,
        disabled_boxes=[1],
        upstream_ignored_fields=["performer.height"],
    ) as w:
        pairs = _library(w)
        other = w.boxes[1].catalogue.add_performer("Elsewhere")
        pairs[0][1].stash_ids.extend(
            w.stash.library._stash_ids([(w.boxes[1].graphql_url, other.id)])
        )
        await w.run(NAME)
        w.box.catalogue.edit_performer(pairs[0][0], height=140, country="JP")
        await w.run(NAME)
        (item,) = await w.items(KIND)
        assert set(_changes(item)) == {"country"}
        assert w.boxes[1].calls == []


async def test_endpoint_priority_picks_one_endpoint_per_performer(tmp_path: Path) -> None:
    """A performer linked to two endpoints is compared with the preferred one only."""
    async with world(tmp_path, [UpstreamPerformerChanges], boxes=2) as w:
        second = w.boxes[1]
        rng = random.Random(3)
        first_remote = _box_performer(w.box, 1, rng)
        local = _local_copy(w, w.box, first_remote)
        second_remote = _box_performer(second, 1, rng)
        local.stash_ids.extend(w.stash.library._stash_ids([(second.graphql_url, second_remote.id)]))
        config = w.runner._config
        w.runner._config = dataclasses.replace(
            config,
            analyzers=dataclasses.replace(
                config.analyzers, endpoint_priorities=[second.graphql_url]
            ),
        )
        await w.run(NAME)
        assert _calls(w.box, "UpstreamPerformer") == 0
        assert _calls(second, "UpstreamPerformer") == 1
