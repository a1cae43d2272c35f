"""Duplicate scene files: scenes with several files, and which one to keep."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from stash_sense.analyzers.base import Analyzer, AnalyzerRun
from stash_sense.config import Config
from stash_sense.review import (
    ActionRefused,
    InvalidOptions,
    ItemFilter,
    Resuggest,
    ResuggestPolicy,
    ReviewItem,
    ReviewKind,
    ReviewState,
)
from stash_sense.review.kinds import members_fingerprint
from stash_sense.stash import StashClient
from stash_sense.writes import AuditLog, Mutation, StashWriter, new_mutation_id

_LOGGER = logging.getLogger(__name__)
KIND = "duplicate_scene_file"
ACTION = "delete_scene_files"
SUBJECT = "files"
_PAGE = 200
# The reference's codec bonus: a modern codec at the same size is the better copy.
_CODEC_BONUS = {"hevc": 100, "h265": 100, "x265": 100, "h264": 50, "avc": 50, "x264": 50}


@dataclass(frozen=True)
class SceneFile:
    """One file of a scene with its quality score."""

    id: str
    path: str
    basename: str
    size: int
    duration: float
    video_codec: str
    audio_codec: str
    width: int
    height: int
    frame_rate: float
    bit_rate: int
    quality_score: float


@dataclass(frozen=True)
class DuplicateFilesPayload:
    """A scene's files, best first; accepting keeps `suggested_keeper_id`."""

    scene_title: str | None
    files: list[SceneFile]
    suggested_keeper_id: str
    total_size: int
    potential_savings: int
    performers: list[str]
    studio: str | None


def quality_score(width: int, height: int, bit_rate: int, codec: str) -> float:
    """Score a file: pixels/10,000 + bit rate in Mbit/s + the codec bonus."""
    return width * height / 10_000 + bit_rate / 1_000_000 + _CODEC_BONUS.get(codec.lower(), 0)


class DuplicateSceneFileKind(ReviewKind[DuplicateFilesPayload]):
    """Accepting deletes the other files, after making the kept one primary."""

    name = KIND
    payload_type = DuplicateFilesPayload
    destructive = True
    # Asked again only when the scene's set of files changes.
    resuggest_after_resolve = ResuggestPolicy(
        after_accept=Resuggest.IF_CHANGED, after_reject=Resuggest.IF_CHANGED
    )

    def __init__(self, stash: StashClient, config: Config, audit: AuditLog | None = None) -> None:
        self._stash = stash
        self._config = config
        self._writer = StashWriter(stash, audit)

    def fingerprint(self, payload: dict[str, Any]) -> str:
        """Compare by the set of files, not by volatile probe data."""
        return members_fingerprint(f["id"] for f in payload.get("files", []))

    async def accept(self, item: ReviewItem, options: dict[str, Any]) -> dict[str, Any]:
        """Delete the files the person saw except the kept one (idempotent)."""
        payload = self.load(item.payload)
        offered = [f.id for f in payload.files]
        keep = str(options.get("keep_file_id", payload.suggested_keeper_id))
        if keep not in offered:
            raise InvalidOptions(f"keep_file_id must be one of {', '.join(offered)}")
        assert item.scene_id is not None  # scene-scoped kind
        data = await self._stash.execute("FindSceneFileIds", {"id": str(item.scene_id)})
        scene = data.get("findScene")
        if scene is None:
            raise ActionRefused(f"scene {item.scene_id} no longer exists")
        current = [str(f["id"]) for f in scene["files"]]
        if keep not in current:
            raise ActionRefused(f"file {keep} is no longer part of scene {item.scene_id}")
        # Files added after the suggestion was made were never shown: never delete them.
        delete = [f for f in current if f != keep and f in offered]
        if not delete:
            return {"kept_file_id": keep, "deleted_file_ids": [], "already_done": True}
        mutation = new_mutation_id()
        steps = [Mutation("DeleteFiles", {"ids": delete})]
        if current[0] != keep:
            # Stash refuses to delete a scene's primary file.
            update = {"id": str(item.scene_id), "primary_file_id": keep}
            update["clientMutationId"] = mutation
            steps.insert(0, Mutation("SceneSetPrimaryFile", {"input": update}))
        entry = await self._writer.send(
            *steps,
            scene_id=item.scene_id,
            action=ACTION,
            reason=f"review:{item.id}: keep file {keep}, delete files {', '.join(delete)}",
            mutation_id=mutation,
        )
        _LOGGER.info("Scene %d: kept file %s, deleted %s", item.scene_id, keep, delete)
        return {"kept_file_id": keep, "deleted_file_ids": delete, "audit_id": entry}


class DuplicateSceneFiles(Analyzer):
    """Find scenes with more than one file and suggest the best file to keep."""

    name = "duplicate_scene_files"
    title = "Duplicate scene files"
    logic_version = 1
    kinds = (DuplicateSceneFileKind,)
    default_schedule = "interval:168h"

    async def run(self, run: AnalyzerRun) -> None:
        """Scan multi-file scenes (cheap, so always in full) and propose a keeper for each."""
        found: set[int] = set()
        page, seen, total = 1, 0, None
        while total is None or seen < total:
            run.check_cancelled()
            data = await run.stash.execute(
                "FindMultiFileScenes",
                {"filter": {"page": page, "per_page": _PAGE, "sort": "id", "direction": "ASC"}},
            )
            result = data["findScenes"]
            total = int(result["count"])
            scenes = result["scenes"]
            if not scenes:
                break
            for scene in scenes:
                payload = _payload(scene)
                if payload is None:
                    continue
                found.add(int(scene["id"]))
                await run.emit(
                    KIND,
                    scene_id=int(scene["id"]),
                    subject=SUBJECT,
                    payload=payload,
                    confidence=1.0,
                )
            seen += len(scenes)
            page += 1
            await run.progress(seen, total, "reading scenes with several files")
        # Scenes that have one file again (resolved in Stash) need no decision.
        for scene_id in await _pending_scenes(run):
            if scene_id not in found:
                await run.supersede(KIND, scene_id, [])
        await run.progress(seen, total, f"{len(found)} scenes with duplicate files")


async def _pending_scenes(run: AnalyzerRun) -> set[int]:
    """Return the scenes with a pending item of this kind."""
    scenes: set[int] = set()
    offset = 0
    while True:
        page = await run.reviews.list(
            ItemFilter(kinds=(KIND,), states=(ReviewState.PENDING,)), limit=500, offset=offset
        )
        scenes.update(i.scene_id for i in page.items if i.scene_id is not None)
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return scenes


def _payload(scene: dict[str, Any]) -> DuplicateFilesPayload | None:
    """Rank a scene's files; None when it has fewer than two."""
    files = [_file(f) for f in scene.get("files") or ()]
    if len(files) < 2:
        return None
    ranked = sorted(files, key=lambda f: (-f.quality_score, -f.size, int(f.id)))
    total = sum(f.size for f in files)
    studio = scene.get("studio") or {}
    return DuplicateFilesPayload(
        scene_title=scene.get("title") or None,
        files=ranked,
        suggested_keeper_id=ranked[0].id,
        total_size=total,
        potential_savings=total - ranked[0].size,
        performers=[str(p["name"]) for p in scene.get("performers") or ()],
        studio=studio.get("name"),
    )


def _file(raw: dict[str, Any]) -> SceneFile:
    """Build a file entry from a `VideoFile` object."""
    width, height = int(raw.get("width") or 0), int(raw.get("height") or 0)
    bit_rate = int(raw.get("bit_rate") or 0)
    codec = str(raw.get("video_codec") or "")
    return SceneFile(
        id=str(raw["id"]),
        path=str(raw["path"]),
        basename=str(raw.get("basename") or ""),
        size=int(raw.get("size") or 0),
        duration=float(raw.get("duration") or 0.0),
        video_codec=codec,
        audio_codec=str(raw.get("audio_codec") or ""),
        width=width,
        height=height,
        frame_rate=float(raw.get("frame_rate") or 0.0),
        bit_rate=bit_rate,
        quality_score=round(quality_score(width, height, bit_rate, codec), 4),
    )
