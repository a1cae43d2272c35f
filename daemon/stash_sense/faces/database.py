"""Load and check an unpacked Stash Sense face-database release."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import voyager

from stash_sense.faces.types import DatabaseError

_LOGGER = logging.getLogger(__name__)

MANIFEST = "manifest.json"
FACES_JSON = "faces.json"
PERFORMERS_JSON = "performers.json"
FACENET_INDEX = "face_facenet.voy"
ARCFACE_INDEX = "face_arcface.voy"
PERFORMERS_DB = "performers.db"
REQUIRED_FILES = (MANIFEST, FACES_JSON, PERFORMERS_JSON, FACENET_INDEX, ARCFACE_INDEX)
DIMENSIONS = 512
VERIFY_MODES = ("auto", "always", "never")

_CHUNK = 1 << 20
_SHA256_HEX_LEN = 64
_CACHE_FORMAT = 1
_SHORT_HASH = 12


class _Problem(Exception):
    """A release problem, turned into a DatabaseError naming the folder by the caller."""


@dataclass(frozen=True)
class PerformerInfo:
    """What performers.json says about one performer."""

    name: str
    country: str | None
    image_url: str | None
    face_count: int


@dataclass(frozen=True)
class VerifyReport:
    """Which release files were hashed on this load, and which the cache vouched for."""

    mode: str
    hashed: tuple[str, ...] = ()
    trusted: tuple[str, ...] = ()  # unchanged since they last verified (auto mode)


@dataclass(eq=False)
class FaceDatabase:
    """An unpacked face-database release: both indices, the face map and performer info."""

    directory: Path
    version: str
    created_at: str | None
    sources: tuple[str, ...]
    facenet_index: Any = field(repr=False)  # voyager.Index (untyped library)
    arcface_index: Any = field(repr=False)
    # position = Voyager id; padded with None up to face_count so any index id is a valid position
    faces: list[str | None] = field(repr=False)
    mapped: npt.NDArray[np.bool_] = field(repr=False)  # faces[i] is not None, for vectorised search
    performers: dict[str, PerformerInfo] = field(repr=False)
    storage_types: dict[str, str]
    ef: int
    has_performers_db: bool
    verification: VerifyReport

    @property
    def face_count(self) -> int:
        """Return the number of vectors in each index."""
        return int(self.facenet_index.num_elements)

    @property
    def performer_count(self) -> int:
        """Return the number of performers in performers.json."""
        return len(self.performers)

    @property
    def mapped_face_count(self) -> int:
        """Return the number of index positions that map to a performer."""
        return int(np.count_nonzero(self.mapped))

    @classmethod
    def load(
        cls,
        directory: Path,
        *,
        verify: str = "auto",
        ef: int = 200,
        cache_file: Path | None = None,
    ) -> FaceDatabase:
        """Load the release in `directory`, blocking; raise DatabaseError on any problem."""
        if verify not in VERIFY_MODES:
            raise ValueError(f"verify must be one of {', '.join(VERIFY_MODES)}, not {verify!r}")
        if ef < 1:
            raise ValueError(f"ef must be at least 1, not {ef}")
        directory = Path(directory)
        try:
            return cls._load(directory, verify=verify, ef=ef, cache_file=cache_file)
        except _Problem as err:
            raise DatabaseError(_one_line(f"face database {directory}: {err}")) from err.__cause__

    @classmethod
    def _load(
        cls, directory: Path, *, verify: str, ef: int, cache_file: Path | None
    ) -> FaceDatabase:
        if not directory.exists():
            raise _Problem("folder not found")
        if not directory.is_dir():
            raise _Problem("is not a folder")
        for name in REQUIRED_FILES:
            if not (directory / name).is_file():
                raise _Problem(f"{name} is missing")

        manifest = _read_json(directory / MANIFEST)
        if not isinstance(manifest, dict):
            raise _Problem(f"{MANIFEST} is not a JSON object")
        version = manifest.get("version")
        if not isinstance(version, str) or not version:
            raise _Problem(f"{MANIFEST} has no version string")
        created_at = manifest.get("created_at")
        if created_at is not None and not isinstance(created_at, str):
            raise _Problem(f"{MANIFEST} created_at is not a string")
        sources = manifest.get("sources", [])
        if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
            raise _Problem(f"{MANIFEST} sources is not a list of strings")

        checksums = _parse_checksums(manifest.get("checksums", {}))
        report = _verify_files(directory, checksums, verify, cache_file)

        performers = _parse_performers(_read_json(directory / PERFORMERS_JSON))
        faces = _parse_faces(_read_json(directory / FACES_JSON), performers)

        facenet = _load_index(directory / FACENET_INDEX, ef)
        arcface = _load_index(directory / ARCFACE_INDEX, ef)
        size = int(facenet.num_elements)
        if int(arcface.num_elements) != size:
            raise _Problem(
                f"{ARCFACE_INDEX} has {arcface.num_elements} faces but {FACENET_INDEX} has {size}"
            )
        if len(faces) > size:
            raise _Problem(
                f"{FACES_JSON} has {len(faces)} entries but the indices hold {size} faces"
            )
        _check_count(manifest, "face_count", size, "the indices hold")
        _check_count(manifest, "performer_count", len(performers), f"{PERFORMERS_JSON} has")

        faces.extend([None] * (size - len(faces)))
        mapped = np.fromiter((uid is not None for uid in faces), dtype=np.bool_, count=size)
        has_db = _check_performers_db(directory / PERFORMERS_DB)

        db = cls(
            directory=directory,
            version=version,
            created_at=created_at,
            sources=tuple(sources),
            facenet_index=facenet,
            arcface_index=arcface,
            faces=faces,
            mapped=mapped,
            performers=performers,
            storage_types={
                "facenet": facenet.storage_data_type.name,
                "arcface": arcface.storage_data_type.name,
            },
            ef=ef,
            has_performers_db=has_db,
            verification=report,
        )
        _LOGGER.info(
            "Loaded face database %s (version %s): %d faces, %d performers, storage %s/%s",
            directory,
            version,
            size,
            len(performers),
            db.storage_types["facenet"],
            db.storage_types["arcface"],
        )
        return db

    def summary(self) -> dict[str, Any]:
        """Describe the loaded release for /health."""
        return {
            "version": self.version,
            "created_at": self.created_at,
            "face_count": self.face_count,
            "mapped_face_count": self.mapped_face_count,
            "performer_count": self.performer_count,
            "sources": list(self.sources),
            "storage_types": dict(self.storage_types),
            "ef": self.ef,
        }


def split_universal_id(uid: str) -> tuple[str, str]:
    """Split "<domain>:<id>" at the first colon (the id part may contain colons)."""
    domain, sep, ident = uid.partition(":")
    if not sep or not domain or not ident:
        raise ValueError(f"not a universal id: {uid!r}")
    return domain, ident


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_json(path: Path) -> Any:
    try:
        with path.open("rb") as stream:
            return json.load(stream)
    except json.JSONDecodeError as err:
        raise _Problem(f"{path.name} is not valid JSON ({err})") from err
    except (OSError, UnicodeDecodeError) as err:
        raise _Problem(f"{path.name} cannot be read ({err})") from err


def _check_count(manifest: dict[str, Any], key: str, actual: int, what: str) -> None:
    expected = manifest.get(key)
    if expected is None:
        return
    if not isinstance(expected, int) or isinstance(expected, bool):
        raise _Problem(f"{MANIFEST} {key} is not an integer")
    if expected != actual:
        raise _Problem(f"{MANIFEST} says {key} {expected} but {what} {actual}")


def _parse_checksums(raw: object) -> dict[str, str]:
    """Return file name → lower-case SHA-256 hex from the manifest's checksums map."""
    if not isinstance(raw, dict):
        raise _Problem(f"{MANIFEST} checksums is not an object")
    checksums: dict[str, str] = {}
    for name, value in raw.items():
        # names come from a downloaded file: refuse anything that could leave the folder
        if not name or Path(name).name != name or name in (".", ".."):
            raise _Problem(f"{MANIFEST} checksums names an invalid file {_short(name)}")
        if not isinstance(value, str):
            raise _Problem(f"{MANIFEST} checksum of {name} is not a string")
        # "sha256:<hex>" or bare hex; the algorithm is always SHA-256, as in the reference
        digest = value.partition(":")[2] if ":" in value else value
        digest = digest.strip().lower()
        if len(digest) != _SHA256_HEX_LEN or any(c not in "0123456789abcdef" for c in digest):
            raise _Problem(f"{MANIFEST} checksum of {name} is not a SHA-256 digest")
        checksums[name] = digest
    return checksums


def sha256_file(path: Path) -> str:
    """Hash a file in 1 MiB chunks and return the hex digest."""
    digest = hashlib.sha256()
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as stream:
        while count := stream.readinto(view):
            digest.update(view[:count])
    return digest.hexdigest()


def _verify_files(
    directory: Path, checksums: dict[str, str], mode: str, cache_file: Path | None
) -> VerifyReport:
    stats: dict[str, os.stat_result] = {}
    for name in checksums:
        try:
            stats[name] = (directory / name).stat()
        except FileNotFoundError:
            raise _Problem(f"{name} is listed in {MANIFEST} checksums but missing") from None
        except OSError as err:
            raise _Problem(f"{name} cannot be read ({err})") from err
    if mode == "never":
        return VerifyReport(mode)

    key_prefix = str(directory.resolve())
    cache = _read_cache(cache_file) if cache_file is not None else {}
    hashed: list[str] = []
    trusted: list[str] = []
    verified: dict[str, dict[str, Any]] = {}
    for name, expected in checksums.items():
        key = os.path.join(key_prefix, name)
        before = stats[name]
        entry = {"size": before.st_size, "mtime_ns": before.st_mtime_ns, "sha256": expected}
        if mode == "auto" and cache.get(key) == entry:
            trusted.append(name)
            verified[key] = entry
            continue
        try:
            actual = sha256_file(directory / name)
        except OSError as err:
            raise _Problem(f"{name} cannot be read ({err})") from err
        hashed.append(name)
        if actual != expected:
            raise _Problem(
                f"{name} fails its checksum: expected {expected[:_SHORT_HASH]}…, "
                f"got {actual[:_SHORT_HASH]}…"
            )
        # a file rewritten while it was being hashed must not be vouched for next time
        after = (directory / name).stat()
        if (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns):
            verified[key] = entry

    if cache_file is not None:
        # keep entries for other release folders; replace this folder's with what passed now
        kept = {k: v for k, v in cache.items() if os.path.dirname(k) != key_prefix}
        if kept | verified != cache:
            _write_cache(cache_file, kept | verified)
    _LOGGER.info(
        "Face database checksums: %d files hashed, %d unchanged since verified",
        len(hashed),
        len(trusted),
    )
    return VerifyReport(mode, tuple(hashed), tuple(trusted))


def _read_cache(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        # a damaged cache only costs a re-hash, never a refused release
        _LOGGER.warning("Ignoring checksum cache %s: %s", path, err)
        return {}
    if not isinstance(data, dict) or data.get("format") != _CACHE_FORMAT:
        return {}
    files = data.get("files")
    return files if isinstance(files, dict) else {}


def _write_cache(path: Path, files: dict[str, Any]) -> None:
    payload = json.dumps({"format": _CACHE_FORMAT, "files": files}, indent=1, sort_keys=True)
    temporary = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(payload, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as err:
        _LOGGER.warning("Cannot write checksum cache %s: %s", path, err)


def _parse_performers(raw: object) -> dict[str, PerformerInfo]:
    if not isinstance(raw, dict):
        raise _Problem(f"{PERFORMERS_JSON} is not a JSON object")
    performers: dict[str, PerformerInfo] = {}
    for uid, info in raw.items():
        try:
            split_universal_id(uid)
        except ValueError:
            raise _Problem(f"{PERFORMERS_JSON} key {_short(uid)} is not a universal id") from None
        if not isinstance(info, dict):
            raise _Problem(f"{PERFORMERS_JSON} entry {uid} is not an object")
        # missing fields get the reference reader's defaults; extra fields are ignored
        name = info.get("name")
        if name is None:
            name = "Unknown"
        country = info.get("country")
        image_url = info.get("image_url")
        face_count = info.get("face_count", 0)
        if not isinstance(name, str):
            raise _Problem(f"{PERFORMERS_JSON} entry {uid} has a non-string name")
        if country is not None and not isinstance(country, str):
            raise _Problem(f"{PERFORMERS_JSON} entry {uid} has a non-string country")
        if image_url is not None and not isinstance(image_url, str):
            raise _Problem(f"{PERFORMERS_JSON} entry {uid} has a non-string image_url")
        if not isinstance(face_count, int) or isinstance(face_count, bool):
            raise _Problem(f"{PERFORMERS_JSON} entry {uid} has a non-integer face_count")
        performers[uid] = PerformerInfo(name, country, image_url, face_count)
    return performers


def _parse_faces(raw: object, performers: dict[str, PerformerInfo]) -> list[str | None]:
    if not isinstance(raw, list):
        raise _Problem(f"{FACES_JSON} is not a JSON array")
    # share the performers.json key objects: hundreds of thousands of duplicate strings otherwise
    canonical = {uid: uid for uid in performers}
    faces: list[str | None] = []
    for position, uid in enumerate(raw):
        if uid is None:
            faces.append(None)
            continue
        if not isinstance(uid, str):
            raise _Problem(f"{FACES_JSON} entry {position} is not a universal id: {_short(uid)}")
        shared = canonical.get(uid)
        if shared is None:
            try:
                split_universal_id(uid)
            except ValueError:
                raise _Problem(
                    f"{FACES_JSON} entry {position} is not a universal id: {_short(uid)}"
                ) from None
            shared = canonical[uid] = uid
        faces.append(shared)
    return faces


def _load_index(path: Path, ef: int) -> Any:
    try:
        index = voyager.Index.load(str(path))
    except Exception as err:  # voyager raises ValueError/RuntimeError/others on bad files
        raise _Problem(f"{path.name} cannot be loaded ({err})") from err
    if index.space != voyager.Space.Cosine:
        raise _Problem(f"{path.name} uses the {index.space.name} space, expected Cosine")
    if index.num_dimensions != DIMENSIONS:
        raise _Problem(f"{path.name} has dimension {index.num_dimensions}, expected {DIMENSIONS}")
    # ids must be the insertion positions 0..n-1, since faces.json is indexed by them
    size = int(index.num_elements)
    if size:
        ids = np.fromiter(index.ids, dtype=np.int64, count=len(index.ids))
        if len(ids) != size or int(ids.min()) != 0 or int(ids.max()) != size - 1:
            raise _Problem(f"{path.name} ids are not the positions 0..{size - 1}")
    index.ef = ef
    return index


def _check_performers_db(path: Path) -> bool:
    """Check that performers.db, when present, is a SQLite file; nothing reads it yet."""
    if not path.exists():
        return False
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=30)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            connection.close()
    except sqlite3.Error as err:
        raise _Problem(f"{PERFORMERS_DB} is not a readable SQLite database ({err})") from err
    return True
