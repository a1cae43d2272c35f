"""The duplicate-scenes analyzer against the fake Stash, with a generated library."""

from __future__ import annotations

import dataclasses
import json
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from stash_sense.analyzers import duplicate_scenes as module
from stash_sense.analyzers.base import AnalyzerRun
from stash_sense.analyzers.duplicate_scenes import (
    KIND,
    Candidate,
    DuplicateScenes,
    DuplicateScenesKind,
    SceneInfo,
    load_face_signatures,
)
from stash_sense.config import Config
from stash_sense.config.model import StashConfig
from stash_sense.identify.store import IdentificationStore
from stash_sense.review import (
    ConfirmationRequired,
    InvalidOptions,
    ItemFilter,
    ReviewQueue,
    ReviewState,
)
from stash_sense.stash import StashClient
from stash_sense.stashbox import DisabledEndpoints
from stash_sense.store import Database
from tests.fakes.stash import FakeStash, Scene

STASHDB = "https://stashdb.org/graphql"
FANSDB = "https://fansdb.cc/graphql"
BACKGROUND = 300


def flip(value: int, bits: int, rng: random.Random) -> int:
    """Flip `bits` distinct bits of a 64-bit value."""
    for b in rng.sample(range(64), bits):
        value ^= 1 << b
    return value


@dataclass
class World:
    """The generated library and the pairs planted in it."""

    fake: FakeStash
    rng: random.Random
    named: dict[str, Scene] = field(default_factory=dict)
    clock: int = 0

    def add(self, name: str | None = None, **kwargs: Any) -> Scene:
        """Add a scene with an old, distinct updated_at (so the watermark is exact)."""
        self.clock += 1
        stamp = f"2024-01-01T00:{self.clock // 60:02d}:{self.clock % 60:02d}+00:00"
        kwargs.setdefault("phash", self.rng.getrandbits(64))
        day = f"20{self.rng.randint(10, 23)}-0{self.rng.randint(1, 9)}-1{self.rng.randint(0, 9)}"
        kwargs.setdefault("date", day)
        scene = self.fake.library.add_scene(created_at=stamp, updated_at=stamp, **kwargs)
        if name is not None:
            self.named[name] = scene
        return scene

    def pair(self, left: str, right: str) -> str:
        """Return the subject of two named scenes."""
        a, b = sorted((self.named[left].id, self.named[right].id))
        return f"{a}:{b}"

    def touch(self, name: str) -> None:
        """Mark a scene updated now, as any edit in Stash does."""
        self.fake.library.touch(self.named[name])


def build_world(fake: FakeStash) -> World:
    """Plant duplicates and near-misses among random scenes."""
    rng = random.Random(4711)
    world = World(fake, rng)
    lib = fake.library
    studios = [lib.add_studio(f"Studio {k}") for k in range(12)]
    performers = [lib.add_performer(f"Performer {k}") for k in range(40)]

    def background() -> None:
        world.add(
            title=f"Scene {world.clock}",
            studio=rng.choice(studios),
            performers=rng.sample(performers, rng.randint(1, 3)),
        )

    for _ in range(BACKGROUND // 2):
        background()
    # Same stash-box scene: reported whatever else differs; the 1080p copy is kept.
    world.add("sb1", studio=studios[0], stash_ids=[(STASHDB, "abc")], width=1280, height=720)
    world.add("sb2", studio=studios[1], stash_ids=[(STASHDB, "abc")])
    # Same id on a disabled endpoint: not a signal.
    world.add("fans1", stash_ids=[(FANSDB, "xyz")])
    world.add("fans2", stash_ids=[(FANSDB, "xyz")])
    # Phash 3 bits apart, nothing else in common.
    base = rng.getrandbits(64)
    world.add("p3a", phash=base)
    world.add("p3b", phash=flip(base, 3, rng))
    # Phash 8 apart with the same studio, cast and date.
    base = rng.getrandbits(64)
    cast = performers[:2]
    world.add("p8a", phash=base, studio=studios[2], performers=cast, date="2023-03-03")
    world.add(
        "p8b", phash=flip(base, 8, rng), studio=studios[2], performers=cast, date="2023-03-03"
    )
    # Near-misses: phash 14 apart; same studio with another cast and a far phash.
    base = rng.getrandbits(64)
    world.add("p14a", phash=base)
    world.add("p14b", phash=flip(base, 14, rng))
    world.add("st1", studio=studios[3], performers=performers[5:7], date="2022-02-02")
    world.add("st2", studio=studios[3], performers=performers[8:10], date="2022-02-02")
    # Phash 9 apart: weak alone, corroborated by faces in one test.
    base = rng.getrandbits(64)
    world.add("f9a", phash=base)
    world.add("f9b", phash=flip(base, 9, rng))
    # A scene that will later be edited into a copy of "target".
    world.add("target", phash=rng.getrandbits(64))
    world.add("edited", phash=rng.getrandbits(64))
    for _ in range(BACKGROUND // 2):
        background()
    return world


EXPECTED = {("sb1", "sb2"), ("p3a", "p3b"), ("p8a", "p8b")}


@dataclass
class Harness:
    """The analyzer, its queue and a way to run it like the runner does."""

    world: World
    stash: StashClient
    db: Database
    queue: ReviewQueue
    analyzer: DuplicateScenes
    config: Config
    watermark: str | None = None
    state: dict[str, Any] = field(default_factory=dict)

    async def run(self, *, full: bool = False) -> AnalyzerRun:
        """Run once, keeping the watermark and state between runs."""

        async def save(watermark: str | None, state: dict[str, Any]) -> None:
            self.watermark, self.state = watermark, state

        run = AnalyzerRun(
            name=self.analyzer.name,
            full=full,
            watermark=self.watermark,
            stash=self.stash,
            config=self.config,
            reviews=self.queue,
            state=self.state,
            save=save,
        )
        await self.analyzer.run(run)
        return run

    async def items(self, state: ReviewState | None = None) -> dict[str, Any]:
        """Return items of the kind by subject."""
        states = (state,) if state else ()
        page = await self.queue.list(ItemFilter(kinds=(KIND,), states=states), limit=500)
        return {i.subject: i for i in page.items}


@pytest_asyncio.fixture
async def harness(fake_stash: FakeStash, tmp_path: Path) -> AsyncIterator[Harness]:
    """Build the world, a client, a store and a queue with the kind registered."""
    world = build_world(fake_stash)
    stash = StashClient(
        dataclasses.replace(
            StashConfig(url=fake_stash.url), requests_per_second=1000.0, max_retries=1
        ),
        backoff_base_seconds=0.01,
    )
    await stash.connect()
    db = Database(tmp_path / "stash-sense.db")
    await db.open()
    queue = ReviewQueue(db)
    base = Config()
    config = dataclasses.replace(
        base, stashbox=dataclasses.replace(base.stashbox, disabled_endpoints=["fansdb.cc"])
    )

    store = IdentificationStore(db, tmp_path / "crops", max_crop_bytes=0)

    async def faces(ids: Any) -> Any:
        return await load_face_signatures(store, ids)

    analyzer = DuplicateScenes(stash, config, faces=faces)
    for kind in analyzer.review_kinds():
        queue.register(kind)
    try:
        yield Harness(world, stash, db, queue, analyzer, config)
    finally:
        await queue.close()
        await db.close()
        await stash.close()


async def test_full_run_finds_planted_duplicates_only(harness: Harness) -> None:
    await harness.run()
    world = harness.world
    found = await harness.items(ReviewState.PENDING)
    assert set(found) == {world.pair(a, b) for a, b in EXPECTED}

    stashbox = found[world.pair("sb1", "sb2")]
    assert stashbox.confidence == 1.0
    assert stashbox.scene_id == min(world.named["sb1"].id, world.named["sb2"].id)
    payload = stashbox.payload
    assert payload is not None
    assert payload["signals"]["stashbox_endpoint"] == STASHDB
    assert payload["suggested_keep_id"] == world.named["sb2"].id  # 1080p beats 720p
    assert payload["scene_a"]["studio"] == "Studio 0"

    near = found[world.pair("p3a", "p3b")].payload
    assert near is not None
    assert near["signals"]["phash_distance"] == 3
    assert near["confidence"] == 65.5  # 85 - 6.5 * 3, no metadata

    weak = found[world.pair("p8a", "p8b")].payload
    assert weak is not None
    assert weak["signals"]["phash_distance"] == 8
    assert weak["signals"]["metadata_score"] == 55.0
    assert weak["confidence"] == 55.0  # 33 + 0.4 * 55
    assert set(weak["sources"]) == {"phash", "metadata"}
    assert weak["reasoning"][0] == "Likely duplicate"
    assert harness.watermark is not None


async def test_faces_corroborate_a_weak_phash(harness: Harness) -> None:
    world = harness.world
    for name in ("f9a", "f9b", "st1", "st2"):
        await _identify(harness.db, world.named[name].id, {"stashdb.org:p1": 40})
    await harness.run()
    found = await harness.items(ReviewState.PENDING)
    corroborated = found[world.pair("f9a", "f9b")].payload
    assert corroborated is not None
    # 26.5 for the phash + 0.4 * 75 for the same solo performer.
    assert corroborated["confidence"] == 56.5
    assert corroborated["signals"]["face_counted"] is True
    # Faces alone never make a pair: same faces, same studio, no phash match.
    assert world.pair("st1", "st2") not in found


async def test_incremental_run_rescores_only_changed_scenes(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = harness.world
    await harness.run()
    first = await harness.items(ReviewState.PENDING)
    last_old = max(world.fake.library.scenes)  # carries the watermark second

    # C's date drifts apart (55 -> 47, below the minimum); "edited" becomes a copy of "target".
    world.named["p8b"].date = "2023-09-09"
    world.touch("p8b")
    target = world.named["target"].files[0].phash
    assert target is not None
    world.named["edited"].files[0].phash = format(int(target, 16) ^ 0b11, "x")
    world.touch("edited")

    scored: list[tuple[int, int]] = []
    original = module.score_pair

    def spy(a: SceneInfo, b: SceneInfo, candidate: Candidate, faces: Any) -> Any:
        scored.append((a.id, b.id))
        return original(a, b, candidate, faces)

    monkeypatch.setattr(module, "score_pair", spy)
    run = await harness.run()

    changed = {world.named["p8b"].id, world.named["edited"].id, last_old}
    assert scored, "the changed scenes' pairs were re-scored"
    assert all(a in changed or b in changed for a, b in scored)
    assert harness.state["last_run"]["changed"] == 3
    after = await harness.items()
    assert after[world.pair("p8a", "p8b")].state is ReviewState.SUPERSEDED
    assert after[world.pair("target", "edited")].state is ReviewState.PENDING
    # Pairs of unchanged scenes are left as they were.
    for subject in (world.pair("sb1", "sb2"), world.pair("p3a", "p3b")):
        assert after[subject].state is ReviewState.PENDING
        assert after[subject].updated_at == first[subject].updated_at
    assert run.counts["superseded"] == 1

    # Nothing changed since: only the scenes of the watermark's second are looked at again.
    scored.clear()
    run = await harness.run()
    touched = {world.named["p8b"].id, world.named["edited"].id}
    assert all(a in touched or b in touched for a, b in scored)
    assert run.counts["superseded"] == 0 and run.counts["emitted"] == 0


async def test_full_run_supersedes_pairs_whose_scene_is_gone(harness: Harness) -> None:
    await harness.run()
    world = harness.world
    world.fake.library.delete_scene(world.named["p3b"].id)
    await harness.run(full=True)
    after = await harness.items()
    assert after[world.pair("p3a", "p3b")].state is ReviewState.SUPERSEDED


async def test_accept_merges_into_the_better_scene(harness: Harness) -> None:
    await harness.run()
    world = harness.world
    lib = world.fake.library
    item = (await harness.items(ReviewState.PENDING))[world.pair("sb1", "sb2")]
    with pytest.raises(ConfirmationRequired):
        await harness.queue.accept(item.id)

    done = await harness.queue.accept(item.id, confirm=True)
    keep, gone = world.named["sb2"], world.named["sb1"]
    assert done.state is ReviewState.ACCEPTED
    assert done.outcome is not None
    assert done.outcome["destination"] == keep.id and done.outcome["merged"] is True
    assert gone.id not in lib.scenes
    assert len(lib.scenes[keep.id].files) == 2  # the source's file moved over

    # A second accept after a crash finds the merge done.
    kind = DuplicateScenesKind(harness.stash, harness.config)
    again = await kind.accept(item, {})
    assert again == {"destination": keep.id, "source": gone.id, "already_merged": True}


async def test_accept_keeps_the_chosen_scene(harness: Harness) -> None:
    await harness.run()
    world = harness.world
    lib = world.fake.library
    item = (await harness.items(ReviewState.PENDING))[world.pair("p3a", "p3b")]
    with pytest.raises(InvalidOptions):
        await harness.queue.accept(item.id, confirm=True, options={"keep": 999_999})
    keep = world.named["p3a"]
    keep_perf = lib.add_performer("Only in source")
    lib.scenes[world.named["p3b"].id].performer_ids = [keep_perf.id]
    done = await harness.queue.accept(item.id, confirm=True, options={"keep": keep.id})
    assert done.outcome is not None and done.outcome["destination"] == keep.id
    assert world.named["p3b"].id not in lib.scenes
    # The merge loses no links: the source's performer is on the kept scene.
    assert keep_perf.id in lib.scenes[keep.id].performer_ids


def test_endpoint_filter_matches_urls_and_domains() -> None:
    by_domain = DisabledEndpoints(["fansdb.cc"])
    assert by_domain.disabled("https://fansdb.cc/graphql")
    assert by_domain.disabled("https://www.fansdb.cc/graphql/")
    assert not by_domain.disabled(STASHDB)
    by_url = DisabledEndpoints(["https://stashdb.org/graphql/"])
    assert by_url.disabled(STASHDB)
    assert not by_url.disabled("https://stashdb.org/other")


async def _identify(db: Database, scene_id: int, frames: dict[str, int]) -> None:
    """Store an identification whose persons saw these performers in these many frames."""
    persons = [
        {"index": k, "frame_count": n, "best": {"universal_id": uid}}
        for k, (uid, n) in enumerate(frames.items())
    ]
    await db.execute(
        "INSERT INTO identifications (scene_id, file_key, pipeline_version, forced, persons,"
        " identified, result, created_at) VALUES (?, 'k', 'v', 0, ?, ?, ?, ?)",
        (scene_id, len(persons), len(persons), json.dumps({"persons": persons}), time.time()),
    )
