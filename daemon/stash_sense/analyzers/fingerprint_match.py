"""Scene fingerprint match: link unlinked scenes to the stash-box scene their files match."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stash_sense.analyzers.base import Analyzer, AnalyzerRun
from stash_sense.config import Config
from stash_sense.events.reconcile import shift_timestamp
from stash_sense.review import (
    ActionRefused,
    InvalidPayload,
    ItemFilter,
    ReviewItem,
    ReviewKind,
    ReviewState,
)
from stash_sense.stash import StashClient
from stash_sense.stash.models import Fingerprint, StashBox
from stash_sense.stashbox import (
    MAX_FINGERPRINT_GROUPS,
    DisabledEndpoints,
    StashBoxClient,
    StashBoxPool,
    StashBoxScene,
    canonical_hash,
    domain_of,
    fingerprint_query,
    normalize_endpoint,
)
from stash_sense.writes import AuditLog, Mutation, StashWriter, new_mutation_id

_LOGGER = logging.getLogger(__name__)
KIND = "scene_fingerprint_match"
# Review items of other kinds and all endpoints for one batch fit in one listing.
_LIST_LIMIT = 10_000


@dataclass(frozen=True)
class MatchedFingerprint:
    """A local fingerprint the stash-box scene carries too."""

    algorithm: str
    hash: str
    local_duration: float | None
    remote_duration: int | None


@dataclass(frozen=True)
class FingerprintMatchPayload:
    """Why a local scene is the stash-box scene `stashbox_scene_id` of `endpoint`."""

    endpoint: str
    endpoint_name: str
    stashbox_scene_id: str
    title: str | None
    studio: str | None
    performers: list[str]
    date: str | None
    code: str | None
    remote_duration: int | None
    local_title: str | None
    local_duration: float | None
    matching: list[MatchedFingerprint]
    local_fingerprints: int
    match_count: int
    match_percentage: float
    duration_diff: float | None
    # Another stash-box scene of the same endpoint matches this local scene as well.
    ambiguous: bool = False


@dataclass(frozen=True)
class MatchRules:
    """The high-confidence rules: enough fingerprints, a large enough share, same length."""

    min_matches: int = 2
    min_percent: float = 66.0
    max_duration_diff: float = 5.0

    @classmethod
    def from_config(cls, config: Config) -> MatchRules:
        """Read the rules from `[analyzers]`."""
        section = config.analyzers
        return cls(
            section.fingerprint_min_matches,
            section.fingerprint_min_percent,
            section.fingerprint_max_duration_diff,
        )


@dataclass(frozen=True)
class LocalScene:
    """A local scene as the matcher needs it."""

    id: int
    title: str | None
    updated_at: str
    # (ALGORITHM, canonical hash) -> duration of the file that has it.
    fingerprints: dict[tuple[str, str], float]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LocalScene:
        """Parse a scene of ScenesForFingerprintMatch; MD5 (never matched) is left out."""
        fingerprints: dict[tuple[str, str], float] = {}
        for file in data.get("files") or ():
            duration = float(file.get("duration") or 0.0)
            for item in file.get("fingerprints") or ():
                query = fingerprint_query(Fingerprint.from_json(item))
                if query is not None:
                    fingerprints.setdefault((query["algorithm"], query["hash"]), duration)
        return cls(
            id=int(data["id"]),
            title=data.get("title") or None,
            updated_at=str(data["updated_at"]),
            fingerprints=fingerprints,
        )

    def group(self) -> list[Fingerprint]:
        """Return the fingerprints to send for this scene."""
        return [Fingerprint(algorithm.lower(), value) for algorithm, value in self.fingerprints]


@dataclass(frozen=True)
class Score:
    """How well a stash-box scene matches a local one."""

    matching: list[MatchedFingerprint]
    percentage: float
    duration_diff: float | None

    def passes(self, rules: MatchRules) -> bool:
        """Apply the high-confidence rules."""
        return (
            len(self.matching) >= rules.min_matches
            and self.percentage >= rules.min_percent
            and (self.duration_diff is None or self.duration_diff <= rules.max_duration_diff)
        )


def score(local: LocalScene, remote: StashBoxScene) -> Score:
    """Count the local fingerprints the remote scene carries and compare durations."""
    remote_durations: dict[tuple[str, str], list[int]] = {}
    for fp in remote.fingerprints:
        key = (fp.algorithm.upper(), canonical_hash(fp.algorithm, fp.hash))
        remote_durations.setdefault(key, []).append(fp.duration)
    matching: list[MatchedFingerprint] = []
    diffs: list[float] = []
    for key, local_duration in local.fingerprints.items():
        if key not in remote_durations:
            continue
        known = [d for d in remote_durations[key] if d > 0]
        remote_duration = round(sum(known) / len(known)) if known else None
        if remote_duration is None and remote.duration:
            remote_duration = remote.duration
        if remote_duration is not None and local_duration > 0:
            diffs.append(abs(local_duration - remote_duration))
        matching.append(MatchedFingerprint(key[0], key[1], local_duration or None, remote_duration))
    total = len(local.fingerprints)
    percentage = round(len(matching) / total * 100, 1) if total else 0.0
    # No duration on either side: nothing contradicts the hashes.
    diff = round(sum(diffs) / len(diffs), 1) if diffs else None
    return Score(matching, percentage, diff)


def _subject(endpoint: str, stashbox_scene_id: str) -> str:
    return f"{endpoint}|{stashbox_scene_id}"


def _load_marks(watermark: str | None) -> dict[str, dict[str, Any]]:
    """Read the per-endpoint progress from the watermark (JSON); junk means start over."""
    if not watermark:
        return {}
    try:
        data = json.loads(watermark)
    except ValueError:
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}


class SceneFingerprintMatchKind(ReviewKind[FingerprintMatchPayload]):
    """Link a local scene to a stash-box scene: add the stash id, keep the others."""

    name = KIND
    payload_type = FingerprintMatchPayload
    scene_scoped = True

    def __init__(self, stash: StashClient, config: Config, audit: AuditLog | None = None) -> None:
        self._stash = stash
        self._writer = StashWriter(stash, audit)
        self._disabled = DisabledEndpoints(config.stashbox.disabled_endpoints)

    def check(self, payload: FingerprintMatchPayload) -> None:
        """Refuse payloads without an endpoint or scene id."""
        if not payload.endpoint or not payload.stashbox_scene_id:
            raise InvalidPayload("endpoint and stashbox_scene_id are required")

    async def accept(self, item: ReviewItem, options: dict[str, Any]) -> dict[str, Any]:
        """Append the stash id to the scene's links (sceneUpdate); a second accept is a no-op."""
        payload = self.load(item.payload)
        if self._disabled.disabled(payload.endpoint):
            raise ActionRefused(
                f"stash-box {payload.endpoint_name} is disabled in the configuration"
            )
        assert item.scene_id is not None  # scene-scoped kind
        data = await self._stash.execute("SceneStashIds", {"id": str(item.scene_id)})
        scene = data.get("findScene")
        if not scene:
            raise ActionRefused(f"scene {item.scene_id} no longer exists in Stash")
        links: list[dict[str, Any]] = list(scene.get("stash_ids") or ())
        wanted = normalize_endpoint(payload.endpoint)
        for link in links:
            if normalize_endpoint(str(link["endpoint"])) != wanted:
                continue
            if link["stash_id"] == payload.stashbox_scene_id:
                return {
                    "linked": False,
                    "endpoint": payload.endpoint,
                    "stash_id": payload.stashbox_scene_id,
                }
            raise ActionRefused(
                f"scene {item.scene_id} is already linked to {link['stash_id']} on "
                f"{payload.endpoint_name}"
            )
        stash_ids = [
            {
                "endpoint": link["endpoint"],
                "stash_id": link["stash_id"],
                "updated_at": link.get("updated_at"),
            }
            for link in links
        ]
        stash_ids.append({"endpoint": payload.endpoint, "stash_id": payload.stashbox_scene_id})
        mutation = new_mutation_id()
        update = {"id": str(item.scene_id), "stash_ids": stash_ids, "clientMutationId": mutation}
        entry_id = await self._writer.send(
            Mutation("SceneSetStashIds", {"input": update}),
            scene_id=item.scene_id,
            action="link_stash_id",
            reason=f"review:{item.id}",
            mutation_id=mutation,
            before_ids=[str(p["id"]) for p in scene.get("performers") or ()],
        )
        _LOGGER.info(
            "Scene %d: linked to %s on %s",
            item.scene_id,
            payload.stashbox_scene_id,
            payload.endpoint_name,
        )
        return {
            "linked": True,
            "endpoint": payload.endpoint,
            "stash_id": payload.stashbox_scene_id,
            "audit_id": entry_id,
        }


class SceneFingerprintMatch(Analyzer):
    """Find stash-box scenes whose fingerprints match local scenes not linked to that endpoint."""

    name = "scene_fingerprint_match"
    title = "Scene fingerprint match"
    logic_version = 1
    kinds = (SceneFingerprintMatchKind,)
    default_schedule = "interval:24h"

    async def run(self, run: AnalyzerRun) -> None:
        """Match every enabled endpoint's unlinked scenes (changed ones since the watermark)."""
        config = run.config
        rules = MatchRules.from_config(config)
        boxes = await run.stash.stash_boxes()
        marks = _load_marks(run.watermark)
        async with StashBoxPool.configured(boxes, config.stashbox) as pool:
            done = 0
            for box in boxes:
                client = pool.for_endpoint(box.endpoint)
                if client is None:
                    continue  # disabled, keyless or broken: the pool logged why
                done = await self._endpoint(
                    run, box=box, client=client, marks=marks, rules=rules, done=done
                )

    async def _endpoint(
        self,
        run: AnalyzerRun,
        *,
        box: StashBox,
        client: StashBoxClient,
        marks: dict[str, dict[str, Any]],
        rules: MatchRules,
        done: int,
    ) -> int:
        """Match one endpoint's candidates batch by batch, saving progress after each."""
        mark = dict(marks.get(box.endpoint) or {})
        since: str | None = mark.get("after")
        after_id = int(mark.get("resume_id") or 0)
        newest: str | None = mark.get("max_seen") or since
        label = box.name or domain_of(box.endpoint)
        scene_filter: dict[str, Any] = {
            "stash_id_endpoint": {"endpoint": box.endpoint, "modifier": "IS_NULL"}
        }
        if since:
            # Stash compares timestamps as text: overlap to cover clock and offset shifts.
            margin = run.config.events.updated_margin_seconds
            scene_filter["updated_at"] = {
                "value": shift_timestamp(since, -margin),
                "modifier": "GREATER_THAN",
            }
        while True:
            run.check_cancelled()
            page_filter = {**scene_filter, "id": {"value": after_id, "modifier": "GREATER_THAN"}}
            data = await run.stash.execute(
                "ScenesForFingerprintMatch",
                {
                    "scene_filter": page_filter,
                    "filter": {
                        "page": 1,
                        "per_page": MAX_FINGERPRINT_GROUPS,
                        "sort": "id",
                        "direction": "ASC",
                    },
                },
            )
            found = data["findScenes"]
            scenes = [LocalScene.from_json(s) for s in found.get("scenes") or ()]
            if not scenes:
                break
            await self._batch(run, box, client, scenes, rules)
            done += len(scenes)
            after_id = scenes[-1].id
            for scene in scenes:
                if newest is None or scene.updated_at > newest:
                    newest = scene.updated_at
            marks[box.endpoint] = {"after": since, "resume_id": after_id, "max_seen": newest}
            await run.set_watermark(json.dumps(marks, sort_keys=True))
            remaining = int(found.get("count") or 0) - len(scenes)
            await run.progress(done, None, f"{label}: {remaining} scenes left")
            if remaining <= 0:
                break
        marks[box.endpoint] = {"after": newest}
        await run.set_watermark(json.dumps(marks, sort_keys=True))
        return done

    async def _batch(
        self,
        run: AnalyzerRun,
        box: StashBox,
        client: StashBoxClient,
        scenes: Sequence[LocalScene],
        rules: MatchRules,
    ) -> None:
        """Send one batch (≤ 40 scenes) and emit the matches that pass the rules."""
        hashed = [s for s in scenes if s.fingerprints]
        if not hashed:
            return
        answers: list[list[StashBoxScene]] = await client.find_scenes_by_fingerprints(
            [s.group() for s in hashed]
        )
        pending = await run.reviews.list(
            ItemFilter(
                kinds=(KIND,),
                states=(ReviewState.PENDING,),
                scene_ids=tuple(s.id for s in hashed),
            ),
            limit=_LIST_LIMIT,
        )
        mine = normalize_endpoint(box.endpoint)
        pending_here: dict[int, set[str]] = {}
        others: dict[int, set[str]] = {}
        for item in pending.items:
            assert item.scene_id is not None
            endpoint = item.subject.rsplit("|", 1)[0]
            target = pending_here if normalize_endpoint(endpoint) == mine else others
            target.setdefault(item.scene_id, set()).add(item.subject)
        name = box.name or domain_of(box.endpoint)
        for local, candidates in zip(hashed, answers, strict=True):
            passing = [(c, s) for c in candidates if (s := score(local, c)).passes(rules)]
            keep = set()
            for remote, result in passing:
                subject = _subject(box.endpoint, remote.id)
                keep.add(subject)
                ambiguous = len(passing) > 1
                confidence = min(1.0, result.percentage / 100) * (0.5 if ambiguous else 1.0)
                await run.emit(
                    KIND,
                    scene_id=local.id,
                    subject=subject,
                    payload=FingerprintMatchPayload(
                        endpoint=box.endpoint,
                        endpoint_name=name,
                        stashbox_scene_id=remote.id,
                        title=remote.title,
                        studio=remote.studio.name if remote.studio else None,
                        performers=[p.as_name or p.name for p in remote.performers],
                        date=remote.release_date,
                        code=remote.code,
                        remote_duration=remote.duration,
                        local_title=local.title,
                        local_duration=max(local.fingerprints.values(), default=None) or None,
                        matching=result.matching,
                        local_fingerprints=len(local.fingerprints),
                        match_count=len(result.matching),
                        match_percentage=result.percentage,
                        duration_diff=result.duration_diff,
                        ambiguous=ambiguous,
                    ),
                    confidence=confidence,
                )
            # Retire this endpoint's earlier proposals the scene no longer matches;
            # supersede works per scene, so the other endpoints' items are kept explicitly.
            if pending_here.get(local.id, set()) - keep:
                await run.supersede(KIND, local.id, keep | others.get(local.id, set()))
