"""Ground truth from the user's own tagging: scenes whose performers all link to the database."""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from stash_sense.stash.client import StashClient
from stash_sense.stash.models import Scene
from stash_sense.stashbox import domain_of

# Why a scene gives no usable ground truth (the report counts them by these words).
NO_FILE = "no video file"
NO_PERFORMERS = "no tagged performers"
NOT_LINKED = "a tagged performer has no stash-box link"
NOT_IN_DATABASE = "a tagged performer's stash-box is not in the face database"
GONE = "scene no longer exists"


@dataclass(frozen=True)
class Candidate:
    """A sampled scene: usable with its truth, or skipped with a reason."""

    scene_id: int
    truth: frozenset[str]  # universal ids of the tagged performers
    reason: str | None  # None: usable


def endpoint_domains(overrides: Mapping[str, str]) -> dict[str, str]:
    """Invert "[stashbox] endpoint_domains" (domain -> URL) to URL -> domain."""
    return {url: domain for domain, url in overrides.items()}


def scene_truth(
    scene: Scene | None, scene_id: int, domains: Collection[str], by_url: Mapping[str, str]
) -> Candidate:
    """Classify one scene: its tagged performers are the truth when each links to the database.

    A scene with a tagged performer the database cannot know is skipped: that performer, found
    by the pipeline, would count as a false alarm, and missed, against recall.
    """
    if scene is None:
        return Candidate(scene_id, frozenset(), GONE)
    if scene.primary_file is None:
        return Candidate(scene_id, frozenset(), NO_FILE)
    if not scene.performers:
        return Candidate(scene_id, frozenset(), NO_PERFORMERS)
    truth: set[str] = set()
    for performer in scene.performers:
        if not performer.stash_ids:
            return Candidate(scene_id, frozenset(), NOT_LINKED)
        known = [
            f"{domain}:{link.stash_id}"
            for link in performer.stash_ids
            if (domain := by_url.get(link.endpoint) or domain_of(link.endpoint)) in domains
        ]
        if not known:
            return Candidate(scene_id, frozenset(), NOT_IN_DATABASE)
        truth.update(known)
    return Candidate(scene_id, frozenset(truth), None)


async def sample(
    stash: StashClient,
    *,
    count: int,
    seed: int,
    domains: Collection[str],
    by_url: Mapping[str, str],
    page_size: int = 100,
) -> list[Candidate]:
    """Shuffle every scene id with the seed and classify scenes until `count` are usable."""
    ids: list[int] = []
    page = 1
    while True:
        found = await stash.find_scenes_page(page=page, per_page=page_size)
        ids.extend(int(s.id) for s in found.scenes)
        if not found.scenes or len(ids) >= found.count:
            break
        page += 1
    ids.sort()  # the same seed picks the same scenes whatever order Stash pages in
    random.Random(seed).shuffle(ids)
    picked: list[Candidate] = []
    usable = 0
    for scene_id in ids:
        if usable >= count:
            break
        candidate = scene_truth(await stash.find_scene(scene_id), scene_id, domains, by_url)
        usable += candidate.reason is None
        picked.append(candidate)
    return picked
