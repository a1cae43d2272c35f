"""The fake stash-box's in-memory catalogue: performers, studios, scenes, fingerprints."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

__all__ = [
    "Appearance",
    "BodyModification",
    "Catalogue",
    "FingerprintRecord",
    "Image",
    "Link",
    "Performer",
    "Scene",
    "Studio",
    "Tag",
    "parse_hash",
]

_UINT64 = (1 << 64) - 1
ALGORITHMS = ("MD5", "OSHASH", "PHASH")


def parse_hash(value: str | int) -> int:
    """Return a hash as stash-box stores it: hex text read as a uint64."""
    if isinstance(value, int):
        return value & _UINT64
    return int(value, 16) & _UINT64


def _new_id() -> str:
    return str(uuid.uuid4())


def _now() -> str:
    # stash-box answers Time as RFC3339 in UTC with microseconds.
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass
class BodyModification:
    """A tattoo or piercing."""

    location: str
    description: str | None = None


@dataclass
class Image:
    """A performer or scene image."""

    url: str
    width: int = 640
    height: int = 960
    id: str = field(default_factory=_new_id)


@dataclass
class Link:
    """A URL with the name of its site."""

    url: str
    site: str = "Home Page"


@dataclass
class Performer:
    """A performer; a merged one is deleted and names its target."""

    name: str
    id: str = field(default_factory=_new_id)
    disambiguation: str | None = None
    aliases: list[str] = field(default_factory=list)
    gender: str | None = None
    country: str | None = None
    images: list[Image] = field(default_factory=list)
    urls: list[Link] = field(default_factory=list)
    deleted: bool = False
    merged_into_id: str | None = None
    merged_ids: list[str] = field(default_factory=list)
    birth_date: str | None = None
    death_date: str | None = None
    ethnicity: str | None = None
    eye_color: str | None = None
    hair_color: str | None = None
    height: int | None = None
    cup_size: str | None = None
    band_size: int | None = None
    waist_size: int | None = None
    hip_size: int | None = None
    breast_type: str | None = None
    career_start_year: int | None = None
    career_end_year: int | None = None
    tattoos: list[BodyModification] | None = None
    piercings: list[BodyModification] | None = None
    created: str = field(default_factory=_now)
    updated: str = field(default_factory=_now)


@dataclass
class Studio:
    """A studio."""

    name: str
    id: str = field(default_factory=_new_id)
    deleted: bool = False
    aliases: list[str] = field(default_factory=list)
    urls: list[Link] = field(default_factory=list)
    parent: Studio | None = None
    created: str = field(default_factory=_now)
    updated: str = field(default_factory=_now)


@dataclass
class Tag:
    """A tag."""

    name: str
    id: str = field(default_factory=_new_id)
    description: str | None = None
    aliases: list[str] = field(default_factory=list)
    deleted: bool = False
    created: str = field(default_factory=_now)
    updated: str = field(default_factory=_now)


@dataclass
class FingerprintRecord:
    """A scene fingerprint; `hash` is the uint64 stash-box keeps."""

    hash: int
    algorithm: str  # "OSHASH" | "PHASH"
    duration: int
    submissions: int = 1
    reports: int = 0


@dataclass
class Appearance:
    """A performer credited in a scene, maybe under an alias."""

    performer: Performer
    as_name: str | None = None


@dataclass
class Scene:
    """A scene with its studio, performers and fingerprints."""

    title: str | None
    id: str = field(default_factory=_new_id)
    code: str | None = None
    details: str | None = None
    release_date: str | None = None
    duration: int | None = None
    studio: Studio | None = None
    performers: list[Appearance] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)
    fingerprints: list[FingerprintRecord] = field(default_factory=list)
    urls: list[Link] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    director: str | None = None
    deleted: bool = False
    created: str = field(default_factory=_now)
    updated: str = field(default_factory=_now)


PerformerSpec = Performer | tuple[Performer, str | None]
FingerprintSpec = FingerprintRecord | tuple[str, str | int] | tuple[str, str | int, int]


def _fingerprint(spec: FingerprintSpec, duration: int | None) -> FingerprintRecord:
    if isinstance(spec, FingerprintRecord):
        return spec
    algorithm = spec[0].upper()
    if algorithm not in ("OSHASH", "PHASH"):
        # stash-box keeps hashes as int64 and no longer stores MD5 at all.
        raise ValueError(f"stash-box does not store {algorithm} fingerprints")
    length = spec[2] if len(spec) == 3 else (duration or 0)
    return FingerprintRecord(parse_hash(spec[1]), algorithm, int(length))


_Edited = TypeVar("_Edited", Studio, Tag, Scene)


def _edit(entity: _Edited, fields: Mapping[str, Any]) -> _Edited:
    for name, value in fields.items():
        if not hasattr(entity, name):
            raise AttributeError(f"{type(entity).__name__} has no field {name!r}")
        setattr(entity, name, value)
    entity.updated = _now()
    return entity


class Catalogue:
    """Everything the fake stash-box knows, keyed by UUID string."""

    def __init__(self) -> None:
        self.performers: dict[str, Performer] = {}
        self.studios: dict[str, Studio] = {}
        self.scenes: dict[str, Scene] = {}
        self.tags: dict[str, Tag] = {}

    def add_performer(
        self,
        name: str,
        *,
        image_count: int = 0,
        images: Iterable[Image] = (),
        **fields: Any,
    ) -> Performer:
        """Add a performer (`Performer` keywords); `image_count` adds placeholder images."""
        performer = Performer(name=name, **fields)
        performer.images.extend(images)
        for index in range(image_count):
            performer.images.append(
                Image(url=f"https://box.invalid/images/{performer.id}/{index}.jpg")
            )
        self.performers[performer.id] = performer
        return performer

    def add_studio(self, name: str, **fields: Any) -> Studio:
        """Add a studio (`Studio` keywords)."""
        studio = Studio(name=name, **fields)
        self.studios[studio.id] = studio
        return studio

    def add_tag(self, name: str, **fields: Any) -> Tag:
        """Add a tag (`Tag` keywords)."""
        tag = Tag(name=name, **fields)
        self.tags[tag.id] = tag
        return tag

    def add_scene(
        self,
        title: str | None = None,
        *,
        fingerprints: Iterable[FingerprintSpec] = (),
        performers: Iterable[PerformerSpec] = (),
        studio: Studio | None = None,
        urls: Iterable[str | Link] = (),
        **fields: Any,
    ) -> Scene:
        """Add a scene; fingerprints as ("PHASH"|"OSHASH", hex or int[, duration])."""
        scene = Scene(title=title, studio=studio, **fields)
        scene.fingerprints = [_fingerprint(f, scene.duration) for f in fingerprints]
        scene.performers = [
            Appearance(*p) if isinstance(p, tuple) else Appearance(p) for p in performers
        ]
        scene.urls = [u if isinstance(u, Link) else Link(u, "Studio") for u in urls]
        self.scenes[scene.id] = scene
        return scene

    def edit_performer(self, performer: Performer, **fields: Any) -> Performer:
        """Change a performer's fields and bump `updated`, as an accepted edit does."""
        for name, value in fields.items():
            if not hasattr(performer, name):
                raise AttributeError(f"Performer has no field {name!r}")
            setattr(performer, name, value)
        performer.updated = _now()
        return performer

    def edit_studio(self, studio: Studio, **fields: Any) -> Studio:
        """Change a studio's fields and bump `updated`."""
        return _edit(studio, fields)

    def edit_tag(self, tag: Tag, **fields: Any) -> Tag:
        """Change a tag's fields and bump `updated`."""
        return _edit(tag, fields)

    def edit_scene(self, scene: Scene, **fields: Any) -> Scene:
        """Change a scene's fields and bump `updated`."""
        return _edit(scene, fields)

    def merge_performers(self, source: Performer, target: Performer) -> None:
        """Merge `source` into `target` the way stash-box does: source deleted, pointing on."""
        source.deleted = True
        source.merged_into_id = target.id
        target.merged_ids.append(source.id)
        source.updated = target.updated = _now()

    def scenes_matching(self, group: Iterable[tuple[str, int]]) -> list[Scene]:
        """Return the live scenes carrying any (algorithm, hash) of one group, once each."""
        wanted = set(group)
        return [
            scene
            for scene in self.scenes.values()
            if not scene.deleted
            and any((f.algorithm, f.hash) in wanted for f in scene.fingerprints)
        ]
