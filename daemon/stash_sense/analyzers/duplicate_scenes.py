"""Duplicate scenes: pairs of scenes that are the same video, found and scored, merged on accept.

Candidates come from three bounded sources, never from comparing all pairs:
shared stash-box (endpoint, id), phash distance <= 10 through `PhashIndex`, and
scenes of one studio with the same cast and date. Face identifications only
corroborate a phash match. Incremental runs re-score only pairs that involve a scene
changed since the watermark, but search them against the whole library.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self

import numpy as np

from stash_sense.analyzers.base import Analyzer, AnalyzerRun, AnalyzerServices
from stash_sense.analyzers.phash_index import PhashIndex, parse_phash
from stash_sense.analyzers.scoring import (
    PHASH_MAX_DISTANCE,
    FaceSignature,
    SceneFacts,
    Signal,
    combine,
    face_similarity,
    metadata_score,
    parse_date,
)
from stash_sense.config import Config
from stash_sense.identify.store import IdentificationStore
from stash_sense.review import (
    ActionRefused,
    InvalidOptions,
    InvalidPayload,
    ItemFilter,
    ResuggestPolicy,
    ReviewItem,
    ReviewKind,
    ReviewState,
)
from stash_sense.stash import StashClient
from stash_sense.stash.models import Scene
from stash_sense.stashbox import DisabledEndpoints, normalize_endpoint
from stash_sense.writes import AuditLog, Mutation, StashWriter, new_mutation_id

_LOGGER = logging.getLogger(__name__)
KIND = "duplicate_scenes"
ACTION = "merge_scenes"
MIN_CONFIDENCE = 50.0
# A stash-box id or (studio, cast, date) shared by more scenes than this is bad metadata
# (placeholder dates, a mis-linked id), not duplicates: its pairs would swamp the queue.
MAX_BUCKET = 50
# A phash value shared by more scenes than this is degenerate (blank or black video).
MAX_SHARED_PHASH = 20
_PAGE = 1000
_EMIT_BATCH = 200
_SQL_CHUNK = 500

FaceLoader = Callable[[Collection[int]], Awaitable[dict[int, FaceSignature]]]


# ---------------------------------------------------------------- payload


@dataclass(frozen=True)
class SceneSide:
    """One scene of a pair as a reviewer compares it."""

    id: int
    title: str | None
    studio: str | None
    performers: list[str]
    date: str | None
    path: str | None
    duration: float | None
    width: int
    height: int
    size: int
    bit_rate: int


@dataclass(frozen=True)
class Signals:
    """Each signal's value, for the breakdown view."""

    stashbox_match: bool
    stashbox_endpoint: str | None
    phash_distance: int | None
    metadata_score: float
    metadata_reasoning: str
    face_score: float
    face_reasoning: str
    # Faces count only when a phash match exists for them to corroborate.
    face_counted: bool


@dataclass(frozen=True)
class DuplicateScenesPayload:
    """Two scenes that look like the same video; accepting merges them."""

    scene_a_id: int
    scene_b_id: int
    # 0-100, as in the reference; the item's confidence is this / 100.
    confidence: float
    reasoning: list[str]
    signals: Signals
    sources: list[str]
    scene_a: SceneSide
    scene_b: SceneSide
    suggested_keep_id: int


# ---------------------------------------------------------------- scenes


@dataclass(frozen=True)
class SceneInfo:
    """What the analyzer knows about one scene."""

    id: int
    title: str | None
    date: str | None
    updated_at: str
    studio_id: int | None
    studio_name: str | None
    performer_ids: frozenset[int]
    performer_names: tuple[str, ...]
    stash_ids: tuple[tuple[str, str], ...]
    phashes: tuple[int, ...]
    path: str | None
    duration: float | None
    width: int
    height: int
    size: int
    bit_rate: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SceneInfo:
        """Parse a scene from FindScenesForDuplicates."""
        files = list(data.get("files") or ())
        primary = files[0] if files else {}
        phashes: list[int] = []
        for f in files:
            for fp in f.get("fingerprints") or ():
                value = parse_phash(fp.get("value")) if fp.get("type") == "phash" else None
                if value is not None and value not in phashes:
                    phashes.append(value)
        studio = data.get("studio") or None
        performers = list(data.get("performers") or ())
        return cls(
            id=int(data["id"]),
            title=data.get("title") or None,
            date=data.get("date") or None,
            updated_at=str(data["updated_at"]),
            studio_id=int(studio["id"]) if studio else None,
            studio_name=str(studio.get("name") or "") or None if studio else None,
            performer_ids=frozenset(int(p["id"]) for p in performers),
            performer_names=tuple(sorted(str(p.get("name") or p["id"]) for p in performers)),
            stash_ids=tuple(
                (str(s["endpoint"]), str(s["stash_id"])) for s in data.get("stash_ids") or ()
            ),
            phashes=tuple(phashes),
            path=str(primary["path"]) if primary.get("path") else None,
            duration=float(primary["duration"]) if primary.get("duration") else None,
            width=int(primary.get("width") or 0),
            height=int(primary.get("height") or 0),
            size=int(primary.get("size") or 0),
            bit_rate=int(primary.get("bit_rate") or 0),
        )

    def facts(self) -> SceneFacts:
        """Return what the metadata score compares."""
        return SceneFacts(parse_date(self.date), self.studio_id, self.performer_ids, self.duration)

    def side(self) -> SceneSide:
        """Return the reviewer's summary."""
        return SceneSide(
            id=self.id,
            title=self.title,
            studio=self.studio_name,
            performers=list(self.performer_names),
            date=self.date,
            path=self.path,
            duration=self.duration,
            width=self.width,
            height=self.height,
            size=self.size,
            bit_rate=self.bit_rate,
        )


def quality_key(
    width: int, height: int, bit_rate: int, duration: float, size: int
) -> tuple[int, int, float, int]:
    """Order copies of one video: more pixels, then bit rate, then length, then size."""
    return (width * height, bit_rate, duration, size)


def better_scene(a: SceneSide, b: SceneSide) -> int:
    """Return the id of the better-quality scene (the older one on a tie)."""
    ka = quality_key(a.width, a.height, a.bit_rate, a.duration or 0.0, a.size)
    kb = quality_key(b.width, b.height, b.bit_rate, b.duration or 0.0, b.size)
    if ka != kb:
        return a.id if ka > kb else b.id
    return min(a.id, b.id)


# ---------------------------------------------------------------- candidates


@dataclass
class Candidate:
    """Why a pair is considered: its sources and the signals found on the way."""

    sources: set[str] = field(default_factory=set)
    stashbox_endpoint: str | None = None
    phash_distance: int | None = None


Pair = tuple[int, int]


def _bucket_pairs(
    groups: Mapping[Any, list[int]], changed: set[int] | None, what: str
) -> Iterable[tuple[Any, Pair]]:
    """Yield the pairs of each group (only those with a changed scene, when given)."""
    for key, members in groups.items():
        if len(members) < 2:
            continue
        if len(members) > MAX_BUCKET:
            _LOGGER.warning(
                "Duplicate scenes: %d scenes share one %s; skipped as bad metadata",
                len(members),
                what,
            )
            continue
        ordered = sorted(set(members))
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                if changed is None or a in changed or b in changed:
                    yield key, (a, b)


def find_candidates(
    scenes: Mapping[int, SceneInfo],
    *,
    changed: set[int] | None,
    endpoints: DisabledEndpoints,
) -> dict[Pair, Candidate]:
    """Collect candidate pairs (a < b) from the three sources, bounded per source."""
    found: dict[Pair, Candidate] = defaultdict(Candidate)

    by_stash_id: dict[tuple[str, str], list[int]] = defaultdict(list)
    for scene in scenes.values():
        for endpoint, stash_id in scene.stash_ids:
            if not endpoints.disabled(endpoint):
                by_stash_id[(normalize_endpoint(endpoint), stash_id)].append(scene.id)
    for (endpoint, _), pair in _bucket_pairs(by_stash_id, changed, "stash-box id"):
        candidate = found[pair]
        candidate.sources.add("stashbox")
        candidate.stashbox_endpoint = endpoint

    for near, distance in phash_pairs(scenes, changed).items():
        candidate = found[near]
        candidate.sources.add("phash")
        candidate.phash_distance = distance

    # Without a phash match only same date + same cast + same studio reaches the minimum
    # (45 + 10), so this key loses no pair that could be reported and stays small.
    by_cast: dict[tuple[int, tuple[int, ...], str], list[int]] = defaultdict(list)
    for scene in scenes.values():
        if scene.studio_id is not None and scene.performer_ids and scene.date:
            key = (scene.studio_id, tuple(sorted(scene.performer_ids)), scene.date)
            by_cast[key].append(scene.id)
    for _, pair in _bucket_pairs(by_cast, changed, "studio, cast and date"):
        found[pair].sources.add("metadata")
    return dict(found)


def phash_pairs(scenes: Mapping[int, SceneInfo], changed: set[int] | None) -> dict[Pair, int]:
    """Return the smallest phash distance (<= 10) of each scene pair, via the index."""
    owners: list[int] = []
    values: list[int] = []
    for scene in scenes.values():
        for value in scene.phashes:
            owners.append(scene.id)
            values.append(value)
    if not values:
        return {}
    shared: dict[int, set[int]] = defaultdict(set)
    for owner, value in zip(owners, values, strict=True):
        shared[value].add(owner)
    degenerate = {v for v, s in shared.items() if len(s) > MAX_SHARED_PHASH}
    if degenerate:
        _LOGGER.warning(
            "Duplicate scenes: ignoring %d phash values shared by more than %d scenes",
            len(degenerate),
            MAX_SHARED_PHASH,
        )
        kept = [k for k, v in enumerate(values) if v not in degenerate]
        owners = [owners[k] for k in kept]
        values = [values[k] for k in kept]
    owner_ids = np.asarray(owners, dtype=np.int64)
    index = PhashIndex(np.asarray(values, dtype=np.uint64), PHASH_MAX_DISTANCE)
    if changed is None:
        found = index.pairs()
    else:
        positions = np.flatnonzero(np.isin(owner_ids, np.fromiter(changed, dtype=np.int64)))
        found = index.pairs_involving(positions.tolist())
    best: dict[Pair, int] = {}
    first = owner_ids[found.first]
    second = owner_ids[found.second]
    for a, b, d in zip(first.tolist(), second.tolist(), found.distance.tolist(), strict=True):
        if a == b:
            continue  # two files of one scene
        pair = (a, b) if a < b else (b, a)
        if pair not in best or d < best[pair]:
            best[pair] = d
    return best


# ---------------------------------------------------------------- faces


async def load_face_signatures(
    store: IdentificationStore, scene_ids: Collection[int]
) -> dict[int, FaceSignature]:
    """Return the latest identification of each scene as a face signature."""
    results = await store.latest_results(scene_ids, chunk=_SQL_CHUNK)
    return {scene_id: face_signature(result) for scene_id, result in results.items()}


def face_signature(result: Mapping[str, Any]) -> FaceSignature:
    """Build a signature from a stored SceneResult: frames per identified performer."""
    counts: dict[str, int] = defaultdict(int)
    for person in result.get("persons") or ():
        best = person.get("best")
        if best and best.get("universal_id"):
            # Two persons resolved to one performer add up (the reference kept the last).
            counts[str(best["universal_id"])] += int(person.get("frame_count") or 0)
    return FaceSignature.from_counts(counts)


# ---------------------------------------------------------------- scoring a pair


def score_pair(
    a: SceneInfo,
    b: SceneInfo,
    candidate: Candidate,
    faces: Mapping[int, FaceSignature],
) -> DuplicateScenesPayload:
    """Score one candidate pair and build its review payload."""
    meta = metadata_score(a.facts(), b.facts())
    face: Signal = face_similarity(faces.get(a.id), faces.get(b.id))
    stashbox = candidate.stashbox_endpoint is not None
    distance = candidate.phash_distance
    # Same-cast scenes of one studio look alike to face identification; without a phash
    # match to corroborate, faces alone would make every such pair a "duplicate".
    face_counted = distance is not None and distance <= PHASH_MAX_DISTANCE
    confidence = combine(
        stashbox_match=stashbox,
        phash_distance=distance,
        metadata=meta.score,
        face=face.score if face_counted else 0.0,
    )
    side_a, side_b = a.side(), b.side()
    return DuplicateScenesPayload(
        scene_a_id=a.id,
        scene_b_id=b.id,
        confidence=confidence.score,
        reasoning=list(confidence.reasoning),
        signals=Signals(
            stashbox_match=stashbox,
            stashbox_endpoint=candidate.stashbox_endpoint,
            phash_distance=distance,
            metadata_score=meta.score,
            metadata_reasoning=meta.reasoning,
            face_score=round(face.score, 1),
            face_reasoning=face.reasoning,
            face_counted=face_counted and face.score > 0,
        ),
        sources=sorted(candidate.sources),
        scene_a=side_a,
        scene_b=side_b,
        suggested_keep_id=better_scene(side_a, side_b),
    )


def subject_of(a: int, b: int) -> str:
    """Return a pair's subject, smaller id first."""
    return f"{min(a, b)}:{max(a, b)}"


def pair_of(subject: str) -> Pair | None:
    """Parse a subject back into its pair, or None."""
    left, sep, right = subject.partition(":")
    if not sep or not left.isdigit() or not right.isdigit():
        return None
    return int(left), int(right)


def _time(text: str) -> datetime:
    """Parse Stash's RFC3339 timestamps (offsets and fractions included)."""
    return datetime.fromisoformat(text)


# ---------------------------------------------------------------- review kind


class DuplicateScenesKind(ReviewKind[DuplicateScenesPayload]):
    """Accepting merges the two scenes into the better (or the chosen) one."""

    name = KIND
    payload_type = DuplicateScenesPayload
    destructive = True
    # Merged or judged different: a person's decision on a pair stands.
    resuggest_after_resolve = ResuggestPolicy()

    def __init__(self, stash: StashClient, config: Config, audit: AuditLog | None = None) -> None:
        self._stash = stash
        self._config = config
        self._writer = StashWriter(stash, audit)

    def check(self, payload: DuplicateScenesPayload) -> None:
        """Pairs are ordered and confidences within 0-100."""
        if not payload.scene_a_id < payload.scene_b_id:
            raise InvalidPayload("payload.scene_a_id must be below payload.scene_b_id")
        if not 0.0 <= payload.confidence <= 100.0:
            raise InvalidPayload("payload.confidence must be in [0, 100]")
        if payload.suggested_keep_id not in (payload.scene_a_id, payload.scene_b_id):
            raise InvalidPayload("payload.suggested_keep_id must be one of the pair")

    async def accept(self, item: ReviewItem, options: dict[str, Any]) -> dict[str, Any]:
        """Merge the other scene into the kept one (idempotent: a gone source is done)."""
        payload = self.load(item.payload)
        pair = (payload.scene_a_id, payload.scene_b_id)
        chosen = options.get("keep")
        if chosen is not None:
            if isinstance(chosen, bool) or str(chosen) not in {str(i) for i in pair}:
                raise InvalidOptions(f"keep must be {pair[0]} or {pair[1]}")
            chosen = int(chosen)
        scenes = {i: await self._stash.find_scene(i) for i in pair}
        alive = [i for i in pair if scenes[i] is not None]
        if not alive:
            raise ActionRefused(f"scenes {pair[0]} and {pair[1]} no longer exist")
        if len(alive) == 1:
            if chosen is not None and chosen not in alive:
                raise ActionRefused(f"scene {chosen} no longer exists; it cannot be kept")
            # Merged (or deleted) already, perhaps by an accept that crashed before its end.
            return {
                "destination": alive[0],
                "source": _other(pair, alive[0]),
                "already_merged": True,
            }
        keep = chosen if chosen is not None else _better_live(scenes, payload)
        source = _other(pair, keep)
        kept_scene, source_scene = scenes[keep], scenes[source]
        assert kept_scene is not None and source_scene is not None
        mutation = new_mutation_id()
        values = _merged_links(keep, kept_scene, source_scene, mutation)
        merge = {
            "source": [str(source)],
            "destination": str(keep),
            "values": values,
            "play_history": True,
            "o_history": True,
        }
        entry = await self._writer.send(
            Mutation("SceneMerge", {"input": merge}),
            scene_id=keep,
            action=ACTION,
            reason=f"review:{item.id}: merge scene {source} into {keep}",
            mutation_id=mutation,
            before_ids=[str(p.id) for p in kept_scene.performers],
        )
        _LOGGER.info("Merged scene %d into scene %d", source, keep)
        return {"destination": keep, "source": source, "merged": True, "audit_id": entry}


def _other(pair: Pair, one: int) -> int:
    """Return the other scene of a pair."""
    return pair[1] if one == pair[0] else pair[0]


def _better_live(scenes: Mapping[int, Scene | None], payload: DuplicateScenesPayload) -> int:
    """Pick the better copy from Stash's current files; fall back to the suggestion."""
    keys: dict[int, tuple[int, int, float, int]] = {}
    for scene_id, scene in scenes.items():
        primary = scene.primary_file if scene is not None else None
        if primary is None:
            return payload.suggested_keep_id
        keys[scene_id] = quality_key(
            primary.width, primary.height, 0, primary.duration, primary.size
        )
    a, b = payload.scene_a_id, payload.scene_b_id
    if keys[a] == keys[b]:
        return payload.suggested_keep_id
    return a if keys[a] > keys[b] else b


def _merged_links(keep: int, kept: Scene, source: Scene, mutation: str) -> dict[str, Any]:
    """Return `values` for the merge: the union of both scenes' links, so none is lost."""
    performers = sorted({p.id for p in (*kept.performers, *source.performers)}, key=int)
    tags = sorted({t.id for t in (*kept.tags, *source.tags)}, key=int)
    stash_ids: dict[tuple[str, str], None] = {}
    for s in (*kept.stash_ids, *source.stash_ids):
        stash_ids[(s.endpoint, s.stash_id)] = None
    return {
        "id": str(keep),
        "clientMutationId": mutation,
        "performer_ids": performers,
        "tag_ids": tags,
        "stash_ids": [{"endpoint": e, "stash_id": i} for e, i in stash_ids],
    }


# ---------------------------------------------------------------- analyzer


class DuplicateScenes(Analyzer):
    """Find scenes that are the same video (stash-box id, phash, metadata) and score them."""

    name = "duplicate_scenes"
    title = "Duplicate scenes"
    logic_version = 1
    kinds = (DuplicateScenesKind,)
    default_schedule = "interval:168h"

    def __init__(
        self,
        stash: StashClient,
        config: Config,
        *,
        faces: FaceLoader | None = None,
        audit: AuditLog | None = None,
        min_confidence: float = MIN_CONFIDENCE,
    ) -> None:
        super().__init__(stash, config, audit)
        self._faces = faces
        self.min_confidence = min_confidence

    @classmethod
    def create(cls, services: AnalyzerServices) -> Self:
        """Build with the face identifications (when given) and the audit log (merges)."""
        store = services.identifications
        if store is None:
            return cls(services.stash, services.config, audit=services.audit)

        async def faces(scene_ids: Collection[int]) -> dict[int, FaceSignature]:
            assert store is not None
            return await load_face_signatures(store, scene_ids)

        return cls(services.stash, services.config, faces=faces, audit=services.audit)

    async def run(self, run: AnalyzerRun) -> None:
        """Load every scene, re-score the pairs that may have changed, retire stale ones."""
        scenes = await self._load_scenes(run)
        changed: set[int] | None = None
        if run.watermark is not None:
            mark = _time(run.watermark)
            # ">=": an edit in the same second as the watermark must not be missed.
            changed = {s.id for s in scenes.values() if _time(s.updated_at) >= mark}
        endpoints = DisabledEndpoints(run.config.stashbox.disabled_endpoints)
        candidates = find_candidates(scenes, changed=changed, endpoints=endpoints)
        run.state()["last_run"] = {
            "scenes": len(scenes),
            "changed": None if changed is None else len(changed),
            "candidates": len(candidates),
        }
        await run.progress(0, len(candidates), f"scoring {len(candidates)} candidate pairs")
        faces = await self._load_faces(candidates)
        emitted: set[str] = set()
        for done, (pair, candidate) in enumerate(sorted(candidates.items()), start=1):
            payload = score_pair(scenes[pair[0]], scenes[pair[1]], candidate, faces)
            if payload.confidence >= self.min_confidence:
                subject = subject_of(*pair)
                await run.emit(
                    KIND,
                    scene_id=pair[0],
                    subject=subject,
                    payload=payload,
                    confidence=payload.confidence / 100.0,
                )
                emitted.add(subject)
            if done % _EMIT_BATCH == 0:
                run.check_cancelled()
                await run.progress(done, len(candidates), "scoring candidate pairs")
        await self._retire(run, scenes, changed, emitted)
        await run.progress(len(candidates), len(candidates), f"{len(emitted)} duplicate pairs")
        if scenes:
            newest = max(scenes.values(), key=lambda s: _time(s.updated_at))
            await run.set_watermark(newest.updated_at)

    async def _load_scenes(self, run: AnalyzerRun) -> dict[int, SceneInfo]:
        """Page through every scene (the index always covers the whole library)."""
        scenes: dict[int, SceneInfo] = {}
        page, total = 1, None
        while total is None or len(scenes) < total:
            run.check_cancelled()
            data = await run.stash.execute(
                "FindScenesForDuplicates",
                {"filter": {"page": page, "per_page": _PAGE, "sort": "id", "direction": "ASC"}},
            )
            result = data["findScenes"]
            total = int(result["count"])
            batch = result["scenes"] or []
            if not batch:
                break
            for raw in batch:
                scene = SceneInfo.from_json(raw)
                scenes[scene.id] = scene
            page += 1
            await run.progress(len(scenes), total, "reading scenes")
        return scenes

    async def _load_faces(self, candidates: Mapping[Pair, Candidate]) -> dict[int, FaceSignature]:
        """Load face signatures of scenes in phash pairs (the only ones faces corroborate)."""
        if self._faces is None:
            return {}
        wanted = {s for pair, c in candidates.items() if c.phash_distance is not None for s in pair}
        return await self._faces(wanted) if wanted else {}

    async def _retire(
        self,
        run: AnalyzerRun,
        scenes: Mapping[int, SceneInfo],
        changed: set[int] | None,
        emitted: set[str],
    ) -> None:
        """Supersede pending pairs this run re-scored below the minimum, or whose scene is gone."""
        pending: dict[int, set[str]] = defaultdict(set)
        offset = 0
        while True:
            page = await run.reviews.list(
                ItemFilter(kinds=(KIND,), states=(ReviewState.PENDING,)), limit=500, offset=offset
            )
            for item in page.items:
                if item.scene_id is not None:
                    pending[item.scene_id].add(item.subject)
            offset += len(page.items)
            if not page.items or offset >= page.total:
                break
        for scene_id, subjects in pending.items():
            stale = set()
            for subject in subjects - emitted:
                pair = pair_of(subject)
                if pair is None:
                    continue
                gone = pair[0] not in scenes or pair[1] not in scenes
                rescored = changed is None or pair[0] in changed or pair[1] in changed
                if gone or rescored:
                    stale.add(subject)
            if stale:
                await run.supersede(KIND, scene_id, subjects - stale)
