"""Write small face-database releases in the exact on-disk format, for tests.

    info = write_release(tmp_path / "face-db", {
        "stashdb.org:aaaa-1": [(facenet_vec, arcface_vec), ...],   # one pair per DB face
        None: [(fn, af)],                                         # faces mapped to null
    })
    db = FaceDatabase.load(info.directory)
    info.positions["stashdb.org:aaaa-1"]   # -> Voyager ids / faces.json positions of its faces

Faces get consecutive positions in mapping order (Voyager id = position); `gaps` random null
faces are then scattered among them. Keyword options break the release on purpose.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import voyager

DIM = 512
FILES = ("performers.db", "face_facenet.voy", "face_arcface.voy", "faces.json", "performers.json")

FacePair = tuple[npt.ArrayLike, npt.ArrayLike]  # (facenet vector, arcface vector), 512 each

_SHORT_ENDPOINTS = {
    "stashdb.org": "stashdb",
    "theporndb.net": "theporndb",
    "fansdb.cc": "fansdb",
    "pmvstash.org": "pmvstash",
    "javstash.org": "javstash",
}


@dataclass(frozen=True)
class ReleaseInfo:
    """What write_release put on disk."""

    directory: Path
    faces: list[str | None]  # faces.json as written (before any `faces_json` override)
    facenet: npt.NDArray[np.float32]  # (n, 512) in position order, as added to the index
    arcface: npt.NDArray[np.float32]
    positions: dict[str, list[int]]  # universal id -> its face positions
    manifest: dict[str, object]


def random_vectors(count: int, seed: int | np.random.Generator = 0) -> npt.NDArray[np.float32]:
    """Return `count` random 512-d float32 vectors (N(0,1), nearly orthogonal to each other)."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return rng.standard_normal((count, DIM)).astype(np.float32)


def random_performers(
    performers: int, faces_each: int, seed: int = 0, domain: str = "stashdb.org"
) -> dict[str, list[FacePair]]:
    """Return `performers` ids ("<domain>:perf-0000"...) with `faces_each` random face pairs."""
    rng = np.random.default_rng(seed)
    fn = random_vectors(performers * faces_each, rng)
    af = random_vectors(performers * faces_each, rng)
    return {
        f"{domain}:perf-{p:04d}": [
            (fn[p * faces_each + f], af[p * faces_each + f]) for f in range(faces_each)
        ]
        for p in range(performers)
    }


def sha256_hex(path: Path) -> str:
    """Return the SHA-256 hex digest of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_release(
    directory: Path,
    performers: Mapping[str, Sequence[FacePair]] | Mapping[str | None, Sequence[FacePair]],
    *,
    storage: voyager.StorageDataType = voyager.StorageDataType.Float32,
    version: str = "2026.11.01",
    gaps: int = 0,
    seed: int = 0,
    bare_checksums: bool = False,
    extra_arcface: int = 0,
    extra_faces: int = 0,
    bad_checksum: str | None = None,
    missing: Collection[str] = (),
    manifest: Mapping[str, object] | None = None,
    faces_json: Sequence[object] | None = None,
    names: Mapping[str, str] | None = None,
    num_threads: int = 1,
) -> ReleaseInfo:
    """Write a release into `directory` (created) and return what it holds.

    storage: Voyager storage type of both indices. gaps: random null faces scattered in.
    bare_checksums: write bare hex instead of "sha256:<hex>".
    Breakage: extra_arcface adds random vectors to face_arcface.voy only; extra_faces appends
    that many performer ids to faces.json past the index size; bad_checksum names a file whose
    manifest checksum is wrong; missing names files deleted after the manifest lists them;
    manifest overrides manifest keys (a None value removes the key); faces_json replaces the
    faces.json content verbatim (checksums still match it). names: display names by id.
    num_threads: threads building each index; 1 keeps the graph (and every result)
    reproducible, -1 (all cores) is for large benchmark releases.
    """
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)

    entries: list[tuple[str | None, npt.NDArray[np.float32], npt.NDArray[np.float32]]] = [
        (uid, _vector(fn), _vector(af)) for uid, pairs in performers.items() for fn, af in pairs
    ]
    for _ in range(gaps):
        slot = int(rng.integers(0, len(entries) + 1))
        entries.insert(slot, (None, random_vectors(1, rng)[0], random_vectors(1, rng)[0]))

    faces = [uid for uid, _, _ in entries]
    facenet = np.stack([fn for _, fn, _ in entries]) if entries else np.empty((0, DIM), np.float32)
    arcface = np.stack([af for _, _, af in entries]) if entries else np.empty((0, DIM), np.float32)
    positions: dict[str, list[int]] = {}
    for position, uid in enumerate(faces):
        if uid is not None:
            positions.setdefault(uid, []).append(position)

    _write_index(directory / "face_facenet.voy", facenet, storage, num_threads)
    _write_index(
        directory / "face_arcface.voy",
        np.concatenate([arcface, random_vectors(extra_arcface, rng)]),
        storage,
        num_threads,
    )

    named = [uid for uid in performers if uid is not None]
    performer_json = {
        uid: {
            "name": (names or {}).get(uid, f"Performer {number}"),
            "country": "US" if number % 2 == 0 else None,
            # Named performers (the kit's) have an inline reference image, which a
            # browser test shows without reaching any network.
            "image_url": _reference_image(number)
            if uid in (names or {})
            else f"https://example.invalid/{number}.jpg"
            if number % 3 == 0
            else None,
            "face_count": len(positions.get(uid, [])),
        }
        for number, uid in enumerate(named)
    }
    _write_json(directory / "performers.json", performer_json, indent=2)

    written_faces: list[object] = list(faces)
    # the reference exporter does not pad trailing nulls up to the index size
    while written_faces and written_faces[-1] is None:
        written_faces.pop()
    if extra_faces:
        filler = named[0] if named else "stashdb.org:extra"
        written_faces.extend([filler] * (len(faces) - len(written_faces) + extra_faces))
    if faces_json is not None:
        written_faces = list(faces_json)
    _write_json(directory / "faces.json", written_faces, indent=None)

    _write_performers_db(directory / "performers.db", named, positions)

    checksums: dict[str, str] = {}
    for name in FILES:
        digest = sha256_hex(directory / name)
        if name == bad_checksum:
            digest = hashlib.sha256(b"not the file").hexdigest()
        checksums[name] = digest if bare_checksums else f"sha256:{digest}"
    document: dict[str, object] = {
        "version": version,
        "created_at": "2026-11-01T12:00:00Z",
        "performer_count": len(performer_json),
        "face_count": len(faces),
        "sources": sorted({uid.partition(":")[0] for uid in named}),
        "models": {
            "detector": "retinaface_buffalo_sc",
            "alignment": "insightface_norm_crop_5point",
            "facenet_dim": DIM,
            "arcface_dim": DIM,
            "flip_averaging": True,
        },
        "checksums": checksums,
    }
    for key, value in (manifest or {}).items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    _write_json(directory / "manifest.json", document, indent=2)

    for name in missing:
        (directory / name).unlink()
    return ReleaseInfo(directory, faces, facenet, arcface, positions, document)


def _vector(value: npt.ArrayLike) -> npt.NDArray[np.float32]:
    vector = np.asarray(value, dtype=np.float32).reshape(-1)
    if vector.shape != (DIM,):
        raise ValueError(f"face vectors must have {DIM} values, got {vector.shape}")
    return vector


def _write_index(
    path: Path,
    vectors: npt.NDArray[np.float32],
    storage: voyager.StorageDataType,
    num_threads: int = 1,
) -> None:
    index = voyager.Index(
        voyager.Space.Cosine,
        num_dimensions=DIM,
        storage_data_type=storage,
        max_elements=max(len(vectors), 1),
        random_seed=1,
    )
    if len(vectors):
        # ids 0..n-1 in row order, as the trainer's are. They are given explicitly because
        # Voyager (2.x) numbers rows out of order when several threads add them unnumbered.
        # One thread (the default) keeps the graph (and so every test result) reproducible.
        index.add_items(
            vectors, ids=np.arange(len(vectors), dtype=np.int64), num_threads=num_threads
        )
    index.save(str(path))


def _write_json(path: Path, value: object, *, indent: int | None) -> None:
    separators = (",", ":") if indent is None else None
    path.write_text(json.dumps(value, indent=indent, separators=separators), encoding="utf-8")


def _write_performers_db(
    path: Path, performers: Sequence[str], positions: Mapping[str, Sequence[int]]
) -> None:
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path)
    try:
        connection.executescript(
            """
            CREATE TABLE performers (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                canonical_name TEXT NOT NULL,
                country TEXT,
                face_count INTEGER DEFAULT 0,
                image_url TEXT
            );
            CREATE TABLE stashbox_ids (
                performer_id INTEGER NOT NULL REFERENCES performers(id) ON DELETE CASCADE,
                endpoint TEXT NOT NULL,
                stashbox_performer_id TEXT NOT NULL,
                PRIMARY KEY (endpoint, stashbox_performer_id)
            );
            CREATE TABLE faces (
                id INTEGER PRIMARY KEY,
                performer_id INTEGER NOT NULL,
                facenet_index INTEGER NOT NULL UNIQUE,
                arcface_index INTEGER NOT NULL UNIQUE,
                image_url TEXT,
                source_endpoint TEXT NOT NULL
            );
            """
        )
        for number, uid in enumerate(performers, start=1):
            domain, _, ident = uid.partition(":")
            endpoint = _SHORT_ENDPOINTS.get(domain, domain.removesuffix(".org"))
            spots = positions.get(uid, [])
            connection.execute(
                "INSERT INTO performers (id, canonical_name, face_count) VALUES (?, ?, ?)",
                (number, f"Performer {number - 1}", len(spots)),
            )
            connection.execute(
                "INSERT INTO stashbox_ids VALUES (?, ?, ?)", (number, endpoint, ident)
            )
            connection.executemany(
                "INSERT INTO faces (performer_id, facenet_index, arcface_index, source_endpoint)"
                " VALUES (?, ?, ?, ?)",
                [(number, spot, spot, endpoint) for spot in spots],
            )
        connection.commit()
    finally:
        connection.close()


def _reference_image(number: int) -> str:
    """Return a small square image as a data URL, one colour per performer."""
    colour = ("#c0392b", "#2471a3", "#229954", "#b7950b")[number % 4]
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
        f'<rect width="64" height="64" fill="{colour}"/></svg>'
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
