"""In-memory Stash library: scenes, files, performers, tags, studios and settings."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import PurePosixPath
from typing import Any

__all__ = [
    "Library",
    "Performer",
    "Scene",
    "StashBoxConfig",
    "StashIdRef",
    "Studio",
    "Tag",
    "VideoFile",
    "format_go_time",
    "normalize_phash",
    "parse_offset",
]

_OFFSET_RE = re.compile(r"^(?:Z|([+-])(\d{2}):(\d{2}))$")


def parse_offset(text: str) -> timezone:
    """Parse ``"Z"`` or ``"+HH:MM"`` / ``"-HH:MM"`` into a fixed timezone."""
    m = _OFFSET_RE.match(text)
    if m is None:
        raise ValueError(f"bad UTC offset {text!r}; use 'Z' or '+HH:MM'")
    if m.group(1) is None:
        return UTC
    delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
    return timezone(-delta if m.group(1) == "-" else delta)


def format_go_time(dt: datetime) -> str:
    """Format like Go's ``time.RFC3339Nano``: trailing zeros trimmed, ``Z`` for UTC."""
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        text += "." + f"{dt.microsecond:06d}".rstrip("0")
    offset = dt.utcoffset()
    if offset is None:
        raise ValueError("naive datetime")
    if offset == timedelta(0):
        return text + "Z"
    total = int(offset.total_seconds())
    sign = "-" if total < 0 else "+"
    hours, minutes = divmod(abs(total) // 60, 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


def normalize_phash(value: int | str) -> str:
    """Return a phash as Stash prints it: lowercase hex of the uint64, no zero padding."""
    number = value if isinstance(value, int) else int(value, 16)
    if not 0 <= number < 2**64:
        raise ValueError(f"phash {value!r} is not a uint64")
    return format(number, "x")


def _derived_hex(seed: str, length: int) -> str:
    # Deterministic stand-in hashes so tests are reproducible without real media.
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


@dataclass
class StashIdRef:
    """A (endpoint, stash_id) link with its ``updated_at``."""

    endpoint: str
    stash_id: str
    updated_at: datetime


@dataclass
class StashBoxConfig:
    """One configured stash-box (``configuration.general.stashBoxes``)."""

    endpoint: str
    api_key: str = ""
    name: str = "StashDB"
    max_requests_per_minute: int = 240


@dataclass
class VideoFile:
    """A video file row with its fingerprints and probe data."""

    id: int
    path: str
    size: int
    mod_time: datetime
    duration: float
    width: int
    height: int
    frame_rate: float
    bit_rate: int
    video_codec: str
    audio_codec: str
    format: str
    oshash: str
    md5: str | None
    phash: str | None
    created_at: datetime
    updated_at: datetime
    # The phash a generate task would compute; applied by scans/metadataGenerate.
    pending_phash: str | None = None

    @property
    def basename(self) -> str:
        """Return the file name without its folder."""
        return PurePosixPath(self.path).name

    def fingerprints(self) -> list[dict[str, str]]:
        """Return fingerprints in the order Stash computes them (oshash, md5, phash)."""
        out = [{"type": "oshash", "value": self.oshash}]
        if self.md5 is not None:
            out.append({"type": "md5", "value": self.md5})
        if self.phash is not None:
            out.append({"type": "phash", "value": self.phash})
        return out

    def fingerprint(self, kind: str) -> str | None:
        """Return one fingerprint value by type, or None."""
        return {"oshash": self.oshash, "md5": self.md5, "phash": self.phash}.get(kind)


@dataclass
class Scene:
    """A scene and its relations (ids into the library)."""

    id: int
    created_at: datetime
    updated_at: datetime
    title: str | None = None
    code: str | None = None
    details: str | None = None
    director: str | None = None
    urls: list[str] = field(default_factory=list)
    date: str | None = None
    rating100: int | None = None
    organized: bool = False
    o_counter: int = 0
    play_count: int = 0
    interactive: bool = False
    studio_id: int | None = None
    performer_ids: list[int] = field(default_factory=list)
    tag_ids: list[int] = field(default_factory=list)
    stash_ids: list[StashIdRef] = field(default_factory=list)
    files: list[VideoFile] = field(default_factory=list)
    cover_image: str | None = None

    @property
    def primary_file(self) -> VideoFile | None:
        """Return the primary (first) file, or None for a file-less scene."""
        return self.files[0] if self.files else None


@dataclass
class Performer:
    """A performer."""

    id: int
    name: str
    created_at: datetime
    updated_at: datetime
    disambiguation: str | None = None
    alias_list: list[str] = field(default_factory=list)
    gender: str | None = None
    urls: list[str] = field(default_factory=list)
    birthdate: str | None = None
    country: str | None = None
    death_date: str | None = None
    ethnicity: str | None = None
    eye_color: str | None = None
    hair_color: str | None = None
    height_cm: int | None = None
    measurements: str | None = None
    fake_tits: str | None = None
    career_length: str | None = None
    tattoos: str | None = None
    piercings: str | None = None
    details: str | None = None
    favorite: bool = False
    ignore_auto_tag: bool = False
    image: str | None = None
    tag_ids: list[int] = field(default_factory=list)
    stash_ids: list[StashIdRef] = field(default_factory=list)
    custom_fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Tag:
    """A tag."""

    id: int
    name: str
    created_at: datetime
    updated_at: datetime
    sort_name: str | None = None
    description: str | None = None
    aliases: list[str] = field(default_factory=list)
    favorite: bool = False
    ignore_auto_tag: bool = False
    image: str | None = None
    stash_ids: list[StashIdRef] = field(default_factory=list)


@dataclass
class Studio:
    """A studio."""

    id: int
    name: str
    created_at: datetime
    updated_at: datetime
    urls: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    details: str | None = None
    favorite: bool = False
    ignore_auto_tag: bool = False
    image: str | None = None
    parent_id: int | None = None
    stash_ids: list[StashIdRef] = field(default_factory=list)


PerformerRef = int | str | Performer
TagRef = int | str | Tag
StudioRef = int | str | Studio
StashIdSpec = tuple[str, str] | StashIdRef


class Library:
    """Hold the fake Stash's state; ids are monotonic and never reused, like SQLite's."""

    def __init__(
        self,
        *,
        tz_offset: str = "+02:00",
        clock: Callable[[], datetime] | None = None,
        stash_paths: Sequence[str] = ("/data",),
    ) -> None:
        """Create an empty library whose timestamps are written in ``tz_offset``."""
        self.tz = parse_offset(tz_offset)
        self._clock = clock or (lambda: datetime.now(UTC))
        self.scenes: dict[int, Scene] = {}
        self.performers: dict[int, Performer] = {}
        self.tags: dict[int, Tag] = {}
        self.studios: dict[int, Studio] = {}
        self.stash_paths: list[str] = list(stash_paths)
        self.stash_boxes: list[StashBoxConfig] = []
        self.plugin_settings: dict[str, dict[str, Any]] = {}
        self.deleted_files: list[str] = []
        self._next: dict[str, int] = {"scene": 1, "file": 1, "performer": 1, "tag": 1, "studio": 1}

    # ------------------------------------------------------------ time

    def now(self, *, precise: bool = False) -> datetime:
        """Return the current time in the server offset (seconds precision unless precise)."""
        current = self._clock().astimezone(self.tz)
        return current if precise else current.replace(microsecond=0)

    def to_local(self, value: datetime | str) -> datetime:
        """Convert a datetime or RFC3339 string to the server offset, seconds precision."""
        dt = datetime.fromisoformat(value) if isinstance(value, str) else value
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=self.tz)
        return dt.astimezone(self.tz).replace(microsecond=0)

    def stored(self, dt: datetime) -> str:
        """Return the string Stash's database holds for ``dt`` (what filters compare)."""
        return format_go_time(dt.astimezone(self.tz).replace(microsecond=0))

    # ------------------------------------------------------------ ids

    def _take_id(self, kind: str) -> int:
        value = self._next[kind]
        self._next[kind] = value + 1
        return value

    # ------------------------------------------------------------ lookups

    def scene(self, scene_id: int | str) -> Scene:
        """Return a scene by id or raise KeyError."""
        return self.scenes[int(scene_id)]

    def performer_by_name(self, name: str) -> Performer | None:
        """Return the first performer whose name matches case-insensitively."""
        return next((p for p in self.performers.values() if p.name.lower() == name.lower()), None)

    def tag_by_name(self, name: str) -> Tag | None:
        """Return the tag whose name matches case-insensitively."""
        return next((t for t in self.tags.values() if t.name.lower() == name.lower()), None)

    def studio_by_name(self, name: str) -> Studio | None:
        """Return the studio whose name matches case-insensitively."""
        return next((s for s in self.studios.values() if s.name.lower() == name.lower()), None)

    def find_file(self, *, oshash: str | None = None, md5: str | None = None) -> Scene | None:
        """Return the scene owning a file with the given oshash or md5."""
        for scene in self.scenes.values():
            for f in scene.files:
                if (oshash is not None and f.oshash == oshash) or (
                    md5 is not None and f.md5 == md5
                ):
                    return scene
        return None

    # ------------------------------------------------------------ helpers for tests

    def _stash_ids(self, specs: Iterable[StashIdSpec]) -> list[StashIdRef]:
        out = []
        for spec in specs:
            if isinstance(spec, StashIdRef):
                out.append(spec)
            else:
                out.append(StashIdRef(spec[0], spec[1], self.now()))
        return out

    def add_performer(
        self,
        name: str,
        *,
        stash_ids: Iterable[StashIdSpec] = (),
        aliases: Iterable[str] = (),
        disambiguation: str | None = None,
        gender: str | None = None,
        image: str | None = None,
        created_at: datetime | str | None = None,
        **extra: Any,
    ) -> Performer:
        """Add a performer; ``stash_ids`` are ``(endpoint, stash_id)`` pairs."""
        when = self.to_local(created_at) if created_at is not None else self.now()
        performer = Performer(
            id=self._take_id("performer"),
            name=name,
            created_at=when,
            updated_at=when,
            disambiguation=disambiguation,
            alias_list=list(aliases),
            gender=gender,
            image=image,
            stash_ids=self._stash_ids(stash_ids),
            **extra,
        )
        self.performers[performer.id] = performer
        return performer

    def add_tag(
        self,
        name: str,
        *,
        aliases: Iterable[str] = (),
        created_at: datetime | str | None = None,
        **extra: Any,
    ) -> Tag:
        """Add a tag."""
        when = self.to_local(created_at) if created_at is not None else self.now()
        tag = Tag(
            id=self._take_id("tag"),
            name=name,
            created_at=when,
            updated_at=when,
            aliases=list(aliases),
            **extra,
        )
        self.tags[tag.id] = tag
        return tag

    def add_studio(
        self,
        name: str,
        *,
        stash_ids: Iterable[StashIdSpec] = (),
        created_at: datetime | str | None = None,
        **extra: Any,
    ) -> Studio:
        """Add a studio."""
        when = self.to_local(created_at) if created_at is not None else self.now()
        studio = Studio(
            id=self._take_id("studio"),
            name=name,
            created_at=when,
            updated_at=when,
            stash_ids=self._stash_ids(stash_ids),
            **extra,
        )
        self.studios[studio.id] = studio
        return studio

    def _performer_id(self, ref: PerformerRef) -> int:
        if isinstance(ref, Performer):
            return ref.id
        if isinstance(ref, int):
            if ref not in self.performers:
                raise KeyError(f"no performer {ref}")
            return ref
        found = self.performer_by_name(ref)
        return found.id if found is not None else self.add_performer(ref).id

    def _tag_id(self, ref: TagRef) -> int:
        if isinstance(ref, Tag):
            return ref.id
        if isinstance(ref, int):
            if ref not in self.tags:
                raise KeyError(f"no tag {ref}")
            return ref
        found = self.tag_by_name(ref)
        return found.id if found is not None else self.add_tag(ref).id

    def _studio_id(self, ref: StudioRef) -> int:
        if isinstance(ref, Studio):
            return ref.id
        if isinstance(ref, int):
            if ref not in self.studios:
                raise KeyError(f"no studio {ref}")
            return ref
        found = self.studio_by_name(ref)
        return found.id if found is not None else self.add_studio(ref).id

    def make_file(
        self,
        *,
        path: str,
        duration: float = 600.0,
        size: int | None = None,
        width: int = 1920,
        height: int = 1080,
        frame_rate: float = 29.97,
        bit_rate: int | None = None,
        video_codec: str = "h264",
        audio_codec: str = "aac",
        format: str = "mp4",
        oshash: str | None = None,
        md5: str | None = None,
        phash: int | str | None = None,
        pending_phash: int | str | None = None,
        mod_time: datetime | str | None = None,
    ) -> VideoFile:
        """Build a file row; size and mod_time come from disk when the path exists."""
        now = self.now()
        on_disk = os.path.isfile(path)
        if size is None:
            size = os.path.getsize(path) if on_disk else 100_000_000
        if mod_time is None:
            mod_time = (
                datetime.fromtimestamp(int(os.path.getmtime(path)), tz=self.tz) if on_disk else now
            )
        return VideoFile(
            id=self._take_id("file"),
            path=path,
            size=size,
            mod_time=self.to_local(mod_time),
            duration=float(duration),
            width=width,
            height=height,
            frame_rate=frame_rate,
            bit_rate=bit_rate if bit_rate is not None else int(size * 8 / max(duration, 1.0)),
            video_codec=video_codec,
            audio_codec=audio_codec,
            format=format,
            oshash=oshash or _derived_hex(path, 16),
            md5=md5,
            phash=normalize_phash(phash) if phash is not None else None,
            pending_phash=normalize_phash(pending_phash) if pending_phash is not None else None,
            created_at=now,
            updated_at=now,
        )

    def add_scene(
        self,
        *,
        title: str | None = None,
        path: str | None = None,
        with_file: bool = True,
        performers: Iterable[PerformerRef] = (),
        tags: Iterable[TagRef] = (),
        studio: StudioRef | None = None,
        stash_ids: Iterable[StashIdSpec] = (),
        urls: Iterable[str] = (),
        details: str | None = None,
        code: str | None = None,
        director: str | None = None,
        date: str | None = None,
        rating100: int | None = None,
        organized: bool = False,
        created_at: datetime | str | None = None,
        updated_at: datetime | str | None = None,
        **file_kwargs: Any,
    ) -> Scene:
        """Add a scene (with one file unless ``with_file=False``).

        ``performers``/``tags``/``studio`` accept ids, objects or names (created when
        missing). Extra keywords (duration, phash, oshash, md5, size, width, height,
        frame_rate, video_codec, ...) describe the file.
        """
        scene_id = self._take_id("scene")
        created = self.to_local(created_at) if created_at is not None else self.now()
        updated = self.to_local(updated_at) if updated_at is not None else created
        files: list[VideoFile] = []
        if with_file:
            files.append(
                self.make_file(path=path or f"/data/videos/scene-{scene_id}.mp4", **file_kwargs)
            )
        elif file_kwargs:
            raise TypeError(f"file fields given for a file-less scene: {sorted(file_kwargs)}")
        scene = Scene(
            id=scene_id,
            created_at=created,
            updated_at=updated,
            title=title,
            code=code,
            details=details,
            director=director,
            urls=list(urls),
            date=date,
            rating100=rating100,
            organized=organized,
            studio_id=self._studio_id(studio) if studio is not None else None,
            performer_ids=sorted({self._performer_id(p) for p in performers}),
            tag_ids=sorted({self._tag_id(t) for t in tags}),
            stash_ids=self._stash_ids(stash_ids),
            files=files,
        )
        self.scenes[scene.id] = scene
        return scene

    def add_file(self, scene_id: int, **file_kwargs: Any) -> VideoFile:
        """Attach another (non-primary) file to a scene."""
        scene = self.scene(scene_id)
        f = self.make_file(**file_kwargs)
        scene.files.append(f)
        return f

    def delete_scene(self, scene_id: int | str) -> Scene:
        """Remove a scene (without hooks) and return it."""
        return self.scenes.pop(int(scene_id))

    def touch(self, obj: Scene | Performer | Tag | Studio) -> None:
        """Bump ``updated_at`` the way every Stash update does."""
        obj.updated_at = self.now()

    def scene_count(
        self,
        *,
        performer_id: int | None = None,
        tag_id: int | None = None,
        studio_id: int | None = None,
    ) -> int:
        """Count scenes linked to a performer, tag or studio."""
        return sum(
            1
            for s in self.scenes.values()
            if (performer_id is not None and performer_id in s.performer_ids)
            or (tag_id is not None and tag_id in s.tag_ids)
            or (studio_id is not None and s.studio_id == studio_id)
        )

    def derived_phash(self, f: VideoFile) -> str:
        """Return the phash a generate task yields for a file without a preset one."""
        return f.pending_phash or normalize_phash(int(_derived_hex("phash:" + f.path, 16), 16))
