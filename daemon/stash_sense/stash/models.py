"""Small frozen result types parsed from Stash's GraphQL answers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Stash timestamps (Time scalar) stay RFC3339 strings: Stash compares its timestamp
# filters as strings, so watermarks must round-trip unchanged.

Json = Mapping[str, Any]


def _items(value: Any) -> Iterable[Json]:
    return value if isinstance(value, list) else ()


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """A file fingerprint: type is "oshash", "md5" or "phash" (lowercase hex)."""

    type: str
    value: str

    @classmethod
    def from_json(cls, data: Json) -> Fingerprint:
        """Parse a `Fingerprint` object."""
        return cls(type=str(data["type"]), value=str(data["value"]))


def _fingerprints(value: Any) -> tuple[Fingerprint, ...]:
    return tuple(Fingerprint.from_json(item) for item in _items(value))


def _find_fingerprint(fingerprints: Iterable[Fingerprint], kind: str) -> str | None:
    return next((f.value for f in fingerprints if f.type == kind), None)


@dataclass(frozen=True, slots=True)
class StashId:
    """A link from a Stash object to a stash-box object."""

    endpoint: str
    stash_id: str

    @classmethod
    def from_json(cls, data: Json) -> StashId:
        """Parse a `StashID` object."""
        return cls(endpoint=str(data["endpoint"]), stash_id=str(data["stash_id"]))


def _stash_ids(value: Any) -> tuple[StashId, ...]:
    return tuple(StashId.from_json(item) for item in _items(value))


@dataclass(frozen=True, slots=True)
class VideoFile:
    """One video file of a scene."""

    id: str
    path: str
    basename: str
    size: int
    duration: float
    width: int
    height: int
    frame_rate: float
    video_codec: str
    fingerprints: tuple[Fingerprint, ...]

    @classmethod
    def from_json(cls, data: Json) -> VideoFile:
        """Parse a `VideoFile` object as FindScene asks for it."""
        return cls(
            id=str(data["id"]),
            path=str(data["path"]),
            basename=str(data["basename"]),
            size=int(data["size"]),
            duration=float(data["duration"]),
            width=int(data["width"]),
            height=int(data["height"]),
            frame_rate=float(data["frame_rate"]),
            video_codec=str(data["video_codec"]),
            fingerprints=_fingerprints(data.get("fingerprints")),
        )

    def fingerprint(self, kind: str) -> str | None:
        """Return the fingerprint of one type, or None."""
        return _find_fingerprint(self.fingerprints, kind)


@dataclass(frozen=True, slots=True)
class PerformerRef:
    """A performer as linked from a scene or found by stash id."""

    id: str
    name: str
    stash_ids: tuple[StashId, ...] = ()

    @classmethod
    def from_json(cls, data: Json) -> PerformerRef:
        """Parse a `Performer` object with id, name and stash_ids."""
        return cls(
            id=str(data["id"]),
            name=str(data.get("name") or ""),
            stash_ids=_stash_ids(data.get("stash_ids")),
        )


@dataclass(frozen=True, slots=True)
class TagRef:
    """A tag's id and name."""

    id: str
    name: str

    @classmethod
    def from_json(cls, data: Json) -> TagRef:
        """Parse a `Tag` object with id and name."""
        return cls(id=str(data["id"]), name=str(data.get("name") or ""))


@dataclass(frozen=True, slots=True)
class ScenePaths:
    """Stash URLs of a scene; `stream` embeds the API key, hence hidden from repr."""

    stream: str | None = field(default=None, repr=False)
    screenshot: str | None = field(default=None, repr=False)

    @classmethod
    def from_json(cls, data: Json | None) -> ScenePaths:
        """Parse a `ScenePathsType` object."""
        if not data:
            return cls()
        return cls(stream=data.get("stream"), screenshot=data.get("screenshot"))


@dataclass(frozen=True, slots=True)
class Scene:
    """A scene as FindScene returns it."""

    id: str
    organized: bool
    created_at: str
    updated_at: str
    files: tuple[VideoFile, ...]
    paths: ScenePaths
    performers: tuple[PerformerRef, ...]
    tags: tuple[TagRef, ...]
    stash_ids: tuple[StashId, ...]

    @classmethod
    def from_json(cls, data: Json) -> Scene:
        """Parse a `Scene` object as FindScene asks for it."""
        return cls(
            id=str(data["id"]),
            organized=bool(data.get("organized")),
            created_at=str(data["created_at"]),
            updated_at=str(data["updated_at"]),
            files=tuple(VideoFile.from_json(f) for f in _items(data.get("files"))),
            paths=ScenePaths.from_json(data.get("paths")),
            performers=tuple(PerformerRef.from_json(p) for p in _items(data.get("performers"))),
            tags=tuple(TagRef.from_json(t) for t in _items(data.get("tags"))),
            stash_ids=_stash_ids(data.get("stash_ids")),
        )

    @property
    def primary_file(self) -> VideoFile | None:
        """Return the primary (first) file, or None for a scene without files."""
        return self.files[0] if self.files else None


@dataclass(frozen=True, slots=True)
class SceneFileSummary:
    """A file of a scene as FindScenes lists it."""

    id: str
    path: str
    fingerprints: tuple[Fingerprint, ...]

    @classmethod
    def from_json(cls, data: Json) -> SceneFileSummary:
        """Parse a `VideoFile` object with id, path and fingerprints."""
        return cls(
            id=str(data["id"]),
            path=str(data["path"]),
            fingerprints=_fingerprints(data.get("fingerprints")),
        )

    def fingerprint(self, kind: str) -> str | None:
        """Return the fingerprint of one type, or None."""
        return _find_fingerprint(self.fingerprints, kind)


@dataclass(frozen=True, slots=True)
class SceneSummary:
    """A scene as FindScenes lists it."""

    id: str
    created_at: str
    updated_at: str
    files: tuple[SceneFileSummary, ...]

    @classmethod
    def from_json(cls, data: Json) -> SceneSummary:
        """Parse a `Scene` object as FindScenes asks for it."""
        return cls(
            id=str(data["id"]),
            created_at=str(data["created_at"]),
            updated_at=str(data["updated_at"]),
            files=tuple(SceneFileSummary.from_json(f) for f in _items(data.get("files"))),
        )


@dataclass(frozen=True, slots=True)
class ScenesPage:
    """One page of FindScenes: the total match count and this page's scenes."""

    count: int
    scenes: tuple[SceneSummary, ...]


@dataclass(frozen=True, slots=True)
class SceneLinks:
    """A scene's performer and tag ids after a bulk update."""

    id: str
    performer_ids: tuple[str, ...]
    tag_ids: tuple[str, ...]

    @classmethod
    def from_json(cls, data: Json) -> SceneLinks:
        """Parse a `Scene` object as BulkSceneUpdate asks for it."""
        return cls(
            id=str(data["id"]),
            performer_ids=tuple(str(p["id"]) for p in _items(data.get("performers"))),
            tag_ids=tuple(str(t["id"]) for t in _items(data.get("tags"))),
        )


@dataclass(frozen=True, slots=True)
class StashBox:
    """A stash-box endpoint configured in Stash; the key is hidden from repr."""

    endpoint: str
    name: str
    max_requests_per_minute: int
    api_key: str = field(repr=False)

    @classmethod
    def from_json(cls, data: Json) -> StashBox:
        """Parse a `StashBox` object."""
        return cls(
            endpoint=str(data["endpoint"]),
            name=str(data.get("name") or ""),
            max_requests_per_minute=int(data.get("max_requests_per_minute") or 0),
            api_key=str(data.get("api_key") or ""),
        )


@dataclass(frozen=True, slots=True)
class JobEvent:
    """One jobsSubscribe event: type is ADD, UPDATE or REMOVE (final status on REMOVE)."""

    type: str
    job_id: str
    status: str
    description: str
    progress: float | None
    end_time: str | None
    error: str | None

    @classmethod
    def from_json(cls, data: Json) -> JobEvent:
        """Parse the `jobsSubscribe` field of a JobsSubscribe event."""
        job: Json = data["job"]
        progress = job.get("progress")
        return cls(
            type=str(data["type"]),
            job_id=str(job["id"]),
            status=str(job["status"]),
            description=str(job.get("description") or ""),
            progress=None if progress is None else float(progress),
            end_time=job.get("endTime"),
            error=job.get("error"),
        )
