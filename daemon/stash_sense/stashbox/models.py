"""Small frozen result types parsed from stash-box answers, and fingerprint encoding."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..stash.models import Fingerprint

Json = Mapping[str, Any]

_UINT64 = (1 << 64) - 1
# Stash's fingerprint types that stash-box matches on; MD5 is dropped by the server.
_QUERYABLE = {"oshash": "OSHASH", "phash": "PHASH"}


def _items(value: Any) -> Iterable[Json]:
    return value if isinstance(value, list) else ()


def _text(value: Any) -> str | None:
    return str(value) if value is not None and value != "" else None


def canonical_hash(algorithm: str, value: str) -> str:
    """Return a hash as Stash writes it: phash unpadded hex, oshash 16 hex digits.

    stash-box answers every hash as 16 zero-padded hex digits; this form compares
    equal to the fingerprint values Stash reports. Non-hex values come back lowercased.
    """
    kind = algorithm.lower()
    text = value.strip().lower().removeprefix("0x")
    if kind in _QUERYABLE:
        try:
            number = int(text, 16)
        except ValueError:
            return text
        return format(number & _UINT64, "x" if kind == "phash" else "016x")
    return text


def phash_hex(value: int | str) -> str:
    """Return a phash as lowercase unpadded hex; a signed int64 is read as unsigned."""
    if isinstance(value, int):
        return format(value & _UINT64, "x")
    return canonical_hash("phash", value)


def fingerprint_query(fingerprint: Fingerprint) -> dict[str, str] | None:
    """Return the FingerprintQueryInput for a Stash fingerprint; None for MD5 or junk."""
    algorithm = _QUERYABLE.get(fingerprint.type.lower())
    if algorithm is None:
        return None
    text = fingerprint.value.strip().lower().removeprefix("0x")
    # stash-box parses hashes as uint64 hex and fails the whole request otherwise.
    if not text or len(text) > 16 or any(c not in "0123456789abcdef" for c in text):
        return None
    return {"hash": canonical_hash(algorithm, text), "algorithm": algorithm}


@dataclass(frozen=True, slots=True)
class StashBoxImage:
    """A performer image: the face references."""

    id: str
    url: str
    width: int
    height: int

    @classmethod
    def from_json(cls, data: Json) -> StashBoxImage:
        """Parse an `Image` object."""
        return cls(
            id=str(data["id"]),
            url=str(data["url"]),
            width=int(data.get("width") or 0),
            height=int(data.get("height") or 0),
        )


@dataclass(frozen=True, slots=True)
class StashBoxUrl:
    """A link with the name of its site (e.g. "Twitter"), when asked for."""

    url: str
    site: str | None = None

    @classmethod
    def from_json(cls, data: Json) -> StashBoxUrl:
        """Parse a `URL` object."""
        site = data.get("site")
        return cls(url=str(data["url"]), site=_text(site.get("name")) if site else None)


@dataclass(frozen=True, slots=True)
class StashBoxPerformer:
    """A stash-box performer; `merged_from` is the id asked for when a merge was followed."""

    id: str
    name: str
    disambiguation: str | None
    aliases: tuple[str, ...]
    gender: str | None
    country: str | None
    images: tuple[StashBoxImage, ...]
    deleted: bool
    merged_into_id: str | None
    urls: tuple[StashBoxUrl, ...]
    merged_from: str | None = None

    @classmethod
    def from_json(cls, data: Json) -> StashBoxPerformer:
        """Parse a `Performer` object as FindPerformer asks for it."""
        return cls(
            id=str(data["id"]),
            name=str(data["name"]),
            disambiguation=_text(data.get("disambiguation")),
            aliases=tuple(str(a) for a in data.get("aliases") or ()),
            gender=_text(data.get("gender")),
            country=_text(data.get("country")),
            images=tuple(StashBoxImage.from_json(i) for i in _items(data.get("images"))),
            deleted=bool(data.get("deleted")),
            merged_into_id=_text(data.get("merged_into_id")),
            urls=tuple(StashBoxUrl.from_json(u) for u in _items(data.get("urls"))),
        )


@dataclass(frozen=True, slots=True)
class StashBoxFingerprint:
    """A scene fingerprint; `hash` in Stash's form (see `canonical_hash`)."""

    hash: str
    algorithm: str  # "MD5" | "OSHASH" | "PHASH"
    duration: int

    @classmethod
    def from_json(cls, data: Json) -> StashBoxFingerprint:
        """Parse a `Fingerprint` object."""
        algorithm = str(data["algorithm"])
        return cls(
            hash=canonical_hash(algorithm, str(data["hash"])),
            algorithm=algorithm,
            duration=int(data.get("duration") or 0),
        )


@dataclass(frozen=True, slots=True)
class StashBoxStudio:
    """A scene's studio."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class StashBoxAppearance:
    """A performer in a scene; `as_name` is the alias credited there, if any."""

    performer_id: str
    name: str
    as_name: str | None

    @classmethod
    def from_json(cls, data: Json) -> StashBoxAppearance:
        """Parse a `PerformerAppearance` object."""
        performer: Json = data["performer"]
        return cls(
            performer_id=str(performer["id"]),
            name=str(performer["name"]),
            as_name=_text(data.get("as")),
        )


@dataclass(frozen=True, slots=True)
class StashBoxScene:
    """A stash-box scene with what matching and tagging need."""

    id: str
    title: str | None
    code: str | None
    release_date: str | None
    duration: int | None
    studio: StashBoxStudio | None
    performers: tuple[StashBoxAppearance, ...]
    fingerprints: tuple[StashBoxFingerprint, ...]
    urls: tuple[str, ...]

    @classmethod
    def from_json(cls, data: Json) -> StashBoxScene:
        """Parse a `Scene` object as the scene operations ask for it."""
        studio = data.get("studio")
        duration = data.get("duration")
        return cls(
            id=str(data["id"]),
            title=_text(data.get("title")),
            code=_text(data.get("code")),
            release_date=_text(data.get("release_date")),
            duration=int(duration) if duration is not None else None,
            studio=StashBoxStudio(str(studio["id"]), str(studio["name"])) if studio else None,
            performers=tuple(
                StashBoxAppearance.from_json(p) for p in _items(data.get("performers"))
            ),
            fingerprints=tuple(
                StashBoxFingerprint.from_json(f) for f in _items(data.get("fingerprints"))
            ),
            urls=tuple(str(u["url"]) for u in _items(data.get("urls"))),
        )

    def has_fingerprint(self, fingerprint: Fingerprint) -> bool:
        """Tell whether this scene carries a Stash fingerprint (same type and value)."""
        algorithm = fingerprint.type.upper()
        value = canonical_hash(algorithm, fingerprint.value)
        return any(f.algorithm == algorithm and f.hash == value for f in self.fingerprints)
