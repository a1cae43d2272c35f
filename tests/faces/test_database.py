"""Loading and checking face-database releases."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import voyager

from stash_sense.faces.database import (
    REQUIRED_FILES,
    FaceDatabase,
    PerformerInfo,
    split_universal_id,
)
from stash_sense.faces.types import DatabaseError
from tests.faces.release import FILES, FacePair, random_performers, write_release

ALL_CHECKED = set(FILES)
Performers = dict[str | None, list[FacePair]]


@pytest.fixture
def performers() -> Performers:
    return {uid: pairs for uid, pairs in random_performers(6, 3, seed=1).items()}


def load_error(directory: Path, **kwargs: object) -> str:
    with pytest.raises(DatabaseError) as caught:
        FaceDatabase.load(directory, **kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message
    assert str(directory) in message
    return message


@pytest.mark.parametrize(
    "storage",
    [voyager.StorageDataType.Float32, voyager.StorageDataType.E4M3, voyager.StorageDataType.Float8],
)
def test_loads_every_storage_type(tmp_path: Path, performers: Performers, storage: object) -> None:
    info = write_release(tmp_path / "db", performers, storage=storage, version="2026.02.18")
    db = FaceDatabase.load(info.directory, verify="always", ef=150)

    assert db.version == "2026.02.18"
    assert db.created_at == "2026-11-01T12:00:00Z"
    assert db.sources == ("stashdb.org",)
    assert db.face_count == 18
    assert db.performer_count == 6
    assert db.storage_types == {"facenet": storage.name, "arcface": storage.name}  # type: ignore[attr-defined]
    assert db.facenet_index.ef == 150
    assert db.arcface_index.ef == 150
    assert db.faces == info.faces
    assert db.has_performers_db
    first = "stashdb.org:perf-0000"
    assert db.performers[first] == PerformerInfo(
        "Performer 0", "US", "https://example.invalid/0.jpg", 3
    )
    assert db.summary() == {
        "version": "2026.02.18",
        "created_at": "2026-11-01T12:00:00Z",
        "face_count": 18,
        "mapped_face_count": 18,
        "performer_count": 6,
        "sources": ["stashdb.org"],
        "storage_types": {"facenet": storage.name, "arcface": storage.name},  # type: ignore[attr-defined]
        "ef": 150,
    }


@pytest.mark.parametrize("bare", [False, True])
def test_checksums_with_prefix_or_bare_hex(
    tmp_path: Path, performers: Performers, bare: bool
) -> None:
    info = write_release(tmp_path / "db", performers, bare_checksums=bare)
    checksum = str(info.manifest["checksums"]["faces.json"])  # type: ignore[index]
    assert checksum.startswith("sha256:") != bare
    db = FaceDatabase.load(info.directory, verify="always")
    assert set(db.verification.hashed) == ALL_CHECKED
    assert db.verification.trusted == ()


def test_auto_mode_hashes_only_changed_files(tmp_path: Path, performers: Performers) -> None:
    info = write_release(tmp_path / "db", performers)
    cache = tmp_path / "state" / "checksums.json"

    first = FaceDatabase.load(info.directory, verify="auto", cache_file=cache)
    assert set(first.verification.hashed) == ALL_CHECKED
    recorded = json.loads(cache.read_text())["files"]
    assert {Path(key).name for key in recorded} == ALL_CHECKED

    second = FaceDatabase.load(info.directory, verify="auto", cache_file=cache)
    assert second.verification.hashed == ()
    assert set(second.verification.trusted) == ALL_CHECKED

    # same bytes, new mtime: hashed again (and still passes)
    touched = info.directory / "faces.json"
    stat = touched.stat()
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    third = FaceDatabase.load(info.directory, verify="auto", cache_file=cache)
    assert third.verification.hashed == ("faces.json",)
    assert len(third.verification.trusted) == len(ALL_CHECKED) - 1

    # changed bytes: hashed and refused
    performers_json = info.directory / "performers.json"
    performers_json.write_text(performers_json.read_text().replace("Performer 1", "Performer X"))
    message = load_error(info.directory, verify="auto", cache_file=cache)
    assert "performers.json fails its checksum" in message


def test_auto_mode_rehashes_when_manifest_expects_another_hash(
    tmp_path: Path, performers: Performers
) -> None:
    info = write_release(tmp_path / "db", performers)
    cache = tmp_path / "checksums.json"
    FaceDatabase.load(info.directory, cache_file=cache)
    manifest_path = info.directory / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["checksums"]["faces.json"] = "sha256:" + "ab" * 32
    manifest_path.write_text(json.dumps(manifest))
    assert "faces.json fails its checksum" in load_error(info.directory, cache_file=cache)


def test_auto_without_cache_hashes_everything_and_never_hashes_nothing(
    tmp_path: Path, performers: Performers
) -> None:
    info = write_release(tmp_path / "db", performers, bad_checksum="face_facenet.voy")
    assert "face_facenet.voy fails its checksum" in load_error(info.directory, verify="auto")
    db = FaceDatabase.load(info.directory, verify="never")
    assert db.verification.hashed == db.verification.trusted == ()


def test_damaged_cache_is_ignored(tmp_path: Path, performers: Performers) -> None:
    info = write_release(tmp_path / "db", performers)
    cache = tmp_path / "checksums.json"
    cache.write_text("{not json")
    db = FaceDatabase.load(info.directory, cache_file=cache)
    assert set(db.verification.hashed) == ALL_CHECKED
    assert json.loads(cache.read_text())["format"] == 1


def test_checksum_mismatch_names_file_and_both_hashes(
    tmp_path: Path, performers: Performers
) -> None:
    info = write_release(tmp_path / "db", performers, bad_checksum="face_arcface.voy")
    message = load_error(info.directory, verify="always")
    expected = str(info.manifest["checksums"]["face_arcface.voy"])[7:19]  # type: ignore[index]
    assert "face_arcface.voy fails its checksum" in message
    assert f"expected {expected}" in message
    assert "got " in message


def test_listed_file_missing_is_an_error_even_when_not_hashing(
    tmp_path: Path, performers: Performers
) -> None:
    info = write_release(tmp_path / "db", performers, missing=["performers.db"])
    message = load_error(info.directory, verify="never")
    assert "performers.db is listed in manifest.json checksums but missing" in message


def test_performers_db_is_optional(tmp_path: Path, performers: Performers) -> None:
    info = write_release(
        tmp_path / "db", performers, missing=["performers.db"], manifest={"checksums": {}}
    )
    assert not FaceDatabase.load(info.directory).has_performers_db


def test_performers_db_must_be_sqlite(tmp_path: Path, performers: Performers) -> None:
    info = write_release(tmp_path / "db", performers)
    (info.directory / "performers.db").write_bytes(b"this is not sqlite" * 100)
    assert "performers.db is not a readable SQLite database" in load_error(
        info.directory, verify="never"
    )


@pytest.mark.parametrize("name", REQUIRED_FILES)
def test_required_file_missing(tmp_path: Path, performers: Performers, name: str) -> None:
    info = write_release(tmp_path / "db", performers, missing=[name])
    assert f"{name} is missing" in load_error(info.directory)


def test_missing_folder(tmp_path: Path) -> None:
    assert "folder not found" in load_error(tmp_path / "nowhere")


def test_index_sizes_must_match(tmp_path: Path, performers: Performers) -> None:
    info = write_release(tmp_path / "db", performers, extra_arcface=1)
    message = load_error(info.directory)
    assert message.endswith("face_arcface.voy has 19 faces but face_facenet.voy has 18")


def test_faces_json_longer_than_indices(tmp_path: Path, performers: Performers) -> None:
    info = write_release(tmp_path / "db", performers, extra_faces=2)
    assert "faces.json has 20 entries but the indices hold 18 faces" in load_error(info.directory)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("face_count", 17, "manifest.json says face_count 17 but the indices hold 18"),
        ("performer_count", 7, "manifest.json says performer_count 7 but performers.json has 6"),
        ("version", None, "manifest.json has no version string"),
        ("sources", "stashdb", "manifest.json sources is not a list of strings"),
    ],
)
def test_manifest_inconsistencies(
    tmp_path: Path, performers: Performers, key: str, value: object, expected: str
) -> None:
    info = write_release(tmp_path / "db", performers, manifest={key: value})
    assert expected in load_error(info.directory)


def test_manifest_counts_are_optional(tmp_path: Path, performers: Performers) -> None:
    info = write_release(
        tmp_path / "db", performers, manifest={"face_count": None, "performer_count": None}
    )
    assert FaceDatabase.load(info.directory).face_count == 18


@pytest.mark.parametrize("bad", ["no-colon", ":abc", 42])
def test_bad_universal_id_in_faces_json(
    tmp_path: Path, performers: Performers, bad: object
) -> None:
    info = write_release(tmp_path / "db", performers)
    faces: list[object] = list(info.faces)
    faces[3] = bad
    info = write_release(tmp_path / "db", performers, faces_json=faces)
    assert "faces.json entry 3 is not a universal id" in load_error(info.directory)


def test_bad_checksum_entry_and_unsafe_names(tmp_path: Path, performers: Performers) -> None:
    info = write_release(tmp_path / "db", performers, manifest={"checksums": {"faces.json": "md5"}})
    assert "checksum of faces.json is not a SHA-256 digest" in load_error(info.directory)
    info = write_release(
        tmp_path / "db", performers, manifest={"checksums": {"../secret": "sha256:" + "0" * 64}}
    )
    assert "checksums names an invalid file" in load_error(info.directory)


def test_invalid_json_and_bad_performers(tmp_path: Path, performers: Performers) -> None:
    info = write_release(tmp_path / "db", performers)
    (info.directory / "faces.json").write_text("[")
    assert "faces.json is not valid JSON" in load_error(info.directory, verify="never")

    info = write_release(tmp_path / "db", performers)
    (info.directory / "performers.json").write_text(json.dumps({"nocolon": {"name": "x"}}))
    message = load_error(info.directory, verify="never")
    assert "performers.json key 'nocolon' is not a universal id" in message


def test_wrong_dimension_is_refused(tmp_path: Path, performers: Performers) -> None:
    info = write_release(tmp_path / "db", performers)
    index = voyager.Index(voyager.Space.Cosine, num_dimensions=128)
    index.add_items(np.ones((18, 128), np.float32) + np.arange(18, dtype=np.float32)[:, None])
    index.save(str(info.directory / "face_arcface.voy"))
    message = load_error(info.directory, verify="never")
    assert "face_arcface.voy has dimension 128, expected 512" in message


def test_unloadable_index(tmp_path: Path, performers: Performers) -> None:
    info = write_release(tmp_path / "db", performers)
    (info.directory / "face_facenet.voy").write_bytes(b"garbage" * 10)
    assert "face_facenet.voy cannot be loaded" in load_error(info.directory, verify="never")


def test_null_gaps_are_kept_as_none_and_padded(tmp_path: Path, performers: Performers) -> None:
    performers[None] = [(np.ones(512), np.ones(512))]  # a trailing null face
    info = write_release(tmp_path / "db", performers, gaps=4)
    on_disk = json.loads((info.directory / "faces.json").read_text())
    assert len(on_disk) < 23  # the exporter drops trailing nulls

    db = FaceDatabase.load(info.directory)
    assert db.face_count == 23
    assert len(db.faces) == 23
    assert db.faces == info.faces
    assert db.faces.count(None) == 5
    assert db.mapped_face_count == 18
    assert list(db.mapped) == [uid is not None for uid in info.faces]


def test_split_universal_id() -> None:
    assert split_universal_id("stashdb.org:019bef93-aa") == ("stashdb.org", "019bef93-aa")
    assert split_universal_id("x.org:a:b:c") == ("x.org", "a:b:c")
    for bad in ("nocolon", ":id", "domain:", ""):
        with pytest.raises(ValueError, match="not a universal id"):
            split_universal_id(bad)


def test_argument_checks(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="verify"):
        FaceDatabase.load(tmp_path, verify="sometimes")
    with pytest.raises(ValueError, match="ef"):
        FaceDatabase.load(tmp_path, ef=0)
