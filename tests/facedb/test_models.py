"""Model installs over HTTP on loopback: a base URL, pinned checksums, a detector inside a zip."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from stash_sense.config import FaceDbConfig, FacesConfig
from stash_sense.facedb import models
from stash_sense.facedb.layout import FaceDbError
from stash_sense.facedb.models import ModelFile, ModelInstaller
from stash_sense.faces.pipeline import ARCFACE_FILE, DETECTOR_FILE, FACENET_FILE, MODEL_FILES
from tests.facedb.server import ReleaseServer, release_server
from tests.faces.kit import Kit

__all__ = ["release_server"]


def installer(tmp_path: Path) -> ModelInstaller:
    faces = FacesConfig(models_dir=str(tmp_path / "models"), detection_size=320)
    return ModelInstaller(faces, FaceDbConfig(download_attempts=2), retry_delay=0)


def installed(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "models").iterdir() if p.is_file())


async def test_base_url_source(
    tmp_path: Path, face_kit: Kit, release_server: ReleaseServer
) -> None:
    for name in MODEL_FILES:
        release_server.add(name, face_kit.models_dir / name)
    release_server.cut_after, release_server.cuts = 200, 1  # one broken transfer, resumed
    names = await installer(tmp_path).install(f"{release_server.url}/files")
    assert sorted(names) == sorted(MODEL_FILES) == installed(tmp_path)
    assert "bytes=200-" in release_server.ranges
    assert not list((tmp_path / "models" / ".downloads").iterdir())


async def test_public_plan_checks_pinned_digests(
    tmp_path: Path, face_kit: Kit, release_server: ReleaseServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pack = tmp_path / "buffalo_sc.zip"
    with zipfile.ZipFile(pack, "w") as archive:
        archive.write(face_kit.models_dir / DETECTOR_FILE, f"buffalo_sc/{DETECTOR_FILE}")
        archive.writestr("buffalo_sc/w600k_mbf.onnx", b"unused")
    urls = {name: release_server.add(name, face_kit.models_dir / name) for name in MODEL_FILES}
    pack_url = release_server.add("buffalo_sc.zip", pack)

    def digest(name: str) -> str:
        return hashlib.sha256((face_kit.models_dir / name).read_bytes()).hexdigest()

    public = (
        ModelFile(DETECTOR_FILE, pack_url, in_zip=True),
        ModelFile(FACENET_FILE, urls[FACENET_FILE], digest(FACENET_FILE)),
        ModelFile(ARCFACE_FILE, urls[ARCFACE_FILE], "0" * 64),
    )
    monkeypatch.setattr(models, "PUBLIC_MODELS", public)
    with pytest.raises(FaceDbError, match=r"arcface\.onnx fails its checksum"):
        await installer(tmp_path).install("")
    assert installed(tmp_path) == []  # nothing replaced
    monkeypatch.setattr(
        models,
        "PUBLIC_MODELS",
        (*public[:2], ModelFile(ARCFACE_FILE, urls[ARCFACE_FILE], digest(ARCFACE_FILE))),
    )
    await installer(tmp_path).install("")
    assert installed(tmp_path) == sorted(MODEL_FILES)
    detector = (tmp_path / "models" / DETECTOR_FILE).read_bytes()
    assert detector == (face_kit.models_dir / DETECTOR_FILE).read_bytes()


async def test_missing_model_in_a_zip_is_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("readme.txt", b"nothing here")
    with pytest.raises(FaceDbError, match=f"empty.zip holds no {DETECTOR_FILE}"):
        await installer(tmp_path).install(str(empty))
