"""Scene fingerprint match against a fake Stash and fake stash-boxes, on a generated library."""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from pathlib import Path

import pytest

from stash_sense.analyzers.fingerprint_match import (
    KIND,
    SceneFingerprintMatch,
    SceneFingerprintMatchKind,
)
from stash_sense.queue import JobCancelled
from stash_sense.review import ActionRefused, ReviewItem, ReviewState
from stash_sense.stash import StashClient
from tests.analyzers.stashbox_world import World, world
from tests.fakes.stash.library import Scene as LocalScene
from tests.fakes.stashbox import FakeStashBox

NAME = SceneFingerprintMatch.name


def _hex(rng: random.Random) -> str:
    return format(rng.getrandbits(64) | 1 << 60, "016x")


@dataclass
class Library:
    """Which local scenes should and should not match."""

    matches: dict[int, str]  # local scene id -> stash-box scene id
    near_misses: list[int]
    linked: list[int]
    unmatched: list[int]


def _generate(w: World, rng: random.Random, *, plain: int = 80) -> Library:
    """Fill the fake Stash and the first stash-box with matches, near misses and noise."""
    lib, catalogue = w.stash.library, w.box.catalogue
    endpoint = w.box.graphql_url
    matches: dict[int, str] = {}
    for index in range(12):
        oshash, phash = _hex(rng), _hex(rng)
        scene = lib.add_scene(title=f"match {index}", duration=1200.0, oshash=oshash, phash=phash)
        remote = catalogue.add_scene(
            f"Remote {index}",
            duration=1201,
            fingerprints=[("OSHASH", oshash, 1201), ("PHASH", phash, 1199)],
        )
        matches[scene.id] = remote.id
    near: list[int] = []
    # One of three fingerprints matches (a second file brings the third).
    oshash, phash = _hex(rng), _hex(rng)
    scene = lib.add_scene(title="one of three", duration=900.0, oshash=oshash, phash=phash)
    lib.add_file(scene.id, path="/data/videos/extra.mp4", duration=900.0, oshash=_hex(rng))
    catalogue.add_scene("Partial", fingerprints=[("PHASH", phash, 900), ("OSHASH", _hex(rng), 900)])
    near.append(scene.id)
    # Every fingerprint matches, but the stash-box scene is 30 s longer.
    oshash, phash = _hex(rng), _hex(rng)
    scene = lib.add_scene(title="too long", duration=600.0, oshash=oshash, phash=phash)
    catalogue.add_scene("Longer", fingerprints=[("OSHASH", oshash, 630), ("PHASH", phash, 630)])
    near.append(scene.id)
    # Already linked to this endpoint: never sent.
    linked: list[int] = []
    oshash, phash = _hex(rng), _hex(rng)
    remote = catalogue.add_scene(
        "Linked", fingerprints=[("OSHASH", oshash, 300), ("PHASH", phash, 300)]
    )
    scene = lib.add_scene(
        title="linked",
        duration=300.0,
        oshash=oshash,
        phash=phash,
        stash_ids=[(endpoint, remote.id)],
    )
    linked.append(scene.id)
    unmatched = [
        lib.add_scene(title=f"plain {i}", oshash=_hex(rng), phash=_hex(rng)).id
        for i in range(plain)
    ]
    return Library(matches, near, linked, unmatched)


def _groups(box: FakeStashBox) -> list[int]:
    """Return the number of scene groups of each fingerprint request."""
    return [len(c.variables["fingerprints"]) for c in box.calls_to("FindScenesBySceneFingerprints")]


def _subjects(items: list[ReviewItem], box: FakeStashBox) -> dict[int, str]:
    return {
        i.scene_id: i.subject.removeprefix(f"{box.graphql_url}|")
        for i in items
        if i.scene_id is not None
    }


async def test_finds_true_matches_in_batches_and_skips_near_misses(tmp_path: Path) -> None:
    """High-confidence matches only; at most 40 scenes per request; linked scenes unsent."""
    async with world(tmp_path, [SceneFingerprintMatch]) as w:
        lib = _generate(w, random.Random(1))
        result = await w.run(NAME)
        items = await w.items(KIND)
        assert _subjects(items, w.box) == lib.matches
        assert result.counts["emitted"] == len(lib.matches)
        sizes = _groups(w.box)
        assert sizes and max(sizes) <= 40
        expected = len(lib.matches) + len(lib.near_misses) + len(lib.unmatched)
        assert sum(sizes) == expected
        first = items[0]
        assert first.payload is not None
        assert first.payload["match_count"] == 2
        assert first.payload["match_percentage"] == 100.0
        assert first.payload["duration_diff"] is not None and first.payload["duration_diff"] <= 5
        assert first.confidence == 1.0
        # MD5 never leaves the daemon; every group is oshash/phash only.
        algorithms = {a for g in w.box.received_groups for grp in g for a, _ in grp}
        assert algorithms <= {"OSHASH", "PHASH"}


async def test_disabled_endpoint_gets_no_call(tmp_path: Path) -> None:
    """A disabled endpoint is never called, and its old items cannot be accepted."""
    async with world(tmp_path, [SceneFingerprintMatch], boxes=2, disabled_boxes=[1]) as w:
        lib = _generate(w, random.Random(2), plain=5)
        await w.run(NAME)
        assert w.boxes[0].calls_to("FindScenesBySceneFingerprints")
        assert w.boxes[1].calls == []
        item = (await w.items(KIND))[0]
        # An item proposed before the endpoint was disabled is refused on accept.
        config = dataclasses.replace(
            w.runner._config,
            stashbox=dataclasses.replace(
                w.runner._config.stashbox, disabled_endpoints=[w.boxes[0].graphql_url]
            ),
        )
        async with StashClient(config.stash) as client:
            kind = SceneFingerprintMatchKind(client, config, w.audit)
            with pytest.raises(ActionRefused):
                await kind.accept(item, {})
        assert not w.stash.library.scenes[next(iter(lib.matches))].stash_ids


async def test_incremental_run_sends_only_changed_scenes(tmp_path: Path) -> None:
    """A second run sends nothing; after an edit and a new scene it sends just those."""
    async with world(tmp_path, [SceneFingerprintMatch]) as w:
        rng = random.Random(3)
        _generate(w, rng, plain=10)
        await w.run(NAME)
        before = len(_groups(w.box))
        await w.run(NAME)
        assert len(_groups(w.box)) == before  # nothing changed: no request at all
        w.tick()
        lib = w.stash.library
        edited: LocalScene = lib.scenes[max(lib.scenes)]
        lib.touch(edited)
        oshash, phash = _hex(rng), _hex(rng)
        added = lib.add_scene(title="new", duration=500.0, oshash=oshash, phash=phash)
        remote = w.box.catalogue.add_scene(
            "New remote", fingerprints=[("OSHASH", oshash, 500), ("PHASH", phash, 500)]
        )
        result = await w.run(NAME)
        new_calls = w.box.calls_to("FindScenesBySceneFingerprints")[before:]
        assert [len(c.variables["fingerprints"]) for c in new_calls] == [2]
        assert result.counts["emitted"] == 1
        items = await w.items(KIND)
        assert _subjects(items, w.box)[added.id] == remote.id
        # A full run re-reads everything and re-proposes nothing new.
        result = await w.run(NAME, full=True)
        assert result.counts.get("emitted", 0) == 0


async def test_cancelled_run_resumes_after_the_last_batch(tmp_path: Path) -> None:
    """Stopping between batches keeps what was done; the next run picks up after it."""
    async with world(tmp_path, [SceneFingerprintMatch]) as w:
        lib = _generate(w, random.Random(4), plain=80)
        calls = 0

        def stop_after_first_batch() -> None:
            nonlocal calls
            calls += 1
            if calls > 1:
                raise JobCancelled("stop requested")

        with pytest.raises(JobCancelled):
            await w.runner.run(NAME, check_cancelled=stop_after_first_batch)
        assert _groups(w.box) == [40]
        await w.run(NAME)
        expected = len(lib.matches) + len(lib.near_misses) + len(lib.unmatched)
        assert sum(_groups(w.box)) == expected  # no scene was sent twice
        assert _subjects(await w.items(KIND), w.box) == lib.matches


async def test_accept_links_the_scene_like_stash_would(tmp_path: Path) -> None:
    """Accepting appends the stash id, keeps other links, is audited and idempotent."""
    async with world(tmp_path, [SceneFingerprintMatch], boxes=2) as w:
        lib = _generate(w, random.Random(5), plain=0)
        scene_id, remote_id = next(iter(lib.matches.items()))
        scene = w.stash.library.scenes[scene_id]
        other = w.boxes[1].graphql_url
        scene.stash_ids = w.stash.library._stash_ids([(other, "other-id")])
        await w.run(NAME)
        item = next(i for i in await w.items(KIND) if i.scene_id == scene_id)
        done = await w.reviews.accept(item.id)
        assert done.state is ReviewState.ACCEPTED
        assert done.outcome is not None and done.outcome["linked"] is True
        links = [(s.endpoint, s.stash_id) for s in scene.stash_ids]
        assert links == [(other, "other-id"), (w.box.graphql_url, remote_id)]
        entries = await w.audit.for_scene(scene_id)
        assert [(e.action, e.status, e.reason) for e in entries] == [
            ("link_stash_id", "applied", f"review:{item.id}")
        ]
        again = await w.reviews.accept(item.id)
        assert again.state is ReviewState.ACCEPTED
        assert len(scene.stash_ids) == 2
        # Linked now: a full run does not send it again.
        sent_before = sum(_groups(w.box))
        await w.run(NAME, full=True)
        assert sum(_groups(w.box)) - sent_before == len(lib.matches) + len(lib.near_misses) - 1


async def test_accept_refuses_a_scene_linked_to_another_id(tmp_path: Path) -> None:
    """A scene linked meanwhile to a different stash-box scene is not linked twice."""
    async with world(tmp_path, [SceneFingerprintMatch]) as w:
        lib = _generate(w, random.Random(6), plain=0)
        scene_id = next(iter(lib.matches))
        await w.run(NAME)
        item = next(i for i in await w.items(KIND) if i.scene_id == scene_id)
        scene = w.stash.library.scenes[scene_id]
        scene.stash_ids = w.stash.library._stash_ids([(w.box.graphql_url, "someone-else")])
        with pytest.raises(ActionRefused):
            await w.reviews.accept(item.id)
        assert [s.stash_id for s in scene.stash_ids] == ["someone-else"]
        current = await w.reviews.get(item.id)
        assert current is not None and current.state is ReviewState.PENDING
