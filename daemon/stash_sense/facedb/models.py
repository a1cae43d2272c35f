"""Install the three ONNX models into `faces.models_dir`, checked before any file is replaced.

The public source is the reference's: FaceNet512 and ArcFace from the Stash Sense
`models` release (pinned SHA-256), the detector from InsightFace's buffalo_sc pack.
Other sources: an http(s) base URL (file names appended), a local folder, or a zip
(local or http) holding the files. Each set is loaded as the daemon loads it (shapes
and outputs checked) before it replaces the installed files.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from stash_sense.config import FaceDbConfig, FacesConfig
from stash_sense.facedb.download import FreeSpace, disk_free, download
from stash_sense.facedb.installer import Stage, no_progress
from stash_sense.facedb.layout import FaceDbError
from stash_sense.faces.database import sha256_file
from stash_sense.faces.pipeline import (
    ARCFACE_FILE,
    DETECTOR_FILE,
    FACENET_FILE,
    MODEL_FILES,
    FaceModels,
)
from stash_sense.faces.types import FaceError

_STASH_SENSE_MODELS = "https://github.com/carrotwaxr/stash-sense/releases/download/models/"
_BUFFALO_SC = "https://github.com/deepinsight/insightface/releases/download/v0.7/buffalo_sc.zip"


@dataclass(frozen=True)
class ModelFile:
    """Where one model comes from and, when known, its SHA-256."""

    name: str
    url: str  # a file URL, or a zip URL/path holding `name`
    sha256: str | None = None
    in_zip: bool = False


PUBLIC_MODELS = (
    ModelFile(DETECTOR_FILE, _BUFFALO_SC, in_zip=True),
    ModelFile(
        FACENET_FILE,
        _STASH_SENSE_MODELS + FACENET_FILE,
        "4b6fcd19d0355d532d25007989d62cdfb5f86d761e52c6287aac9d821011a9e6",
    ),
    ModelFile(
        ARCFACE_FILE,
        _STASH_SENSE_MODELS + ARCFACE_FILE,
        "2eff37a187485caef7ffb3bbb3a542132d195bbdc02e071f20e80614477b735c",
    ),
)


def plan(source: str) -> tuple[ModelFile, ...]:
    """Turn a models source (empty: the public downloads) into one entry per model."""
    source = source.strip()
    if not source:
        return PUBLIC_MODELS
    if source.lower().endswith(".zip"):
        return tuple(ModelFile(name, source, in_zip=True) for name in MODEL_FILES)
    if urlsplit(source).scheme in ("http", "https"):
        base = source if source.endswith("/") else source + "/"
        return tuple(ModelFile(name, base + name) for name in MODEL_FILES)
    return tuple(ModelFile(name, str(Path(source).expanduser() / name)) for name in MODEL_FILES)


class ModelInstaller:
    """Fetch, check and install the models."""

    def __init__(
        self,
        faces: FacesConfig,
        facedb: FaceDbConfig,
        *,
        free_space: FreeSpace = disk_free,
        progress: Stage = no_progress,
        retry_delay: float = 1.0,
    ) -> None:
        self.faces = faces
        self.facedb = facedb
        self.models_dir = Path(faces.models_dir).expanduser().resolve()
        self._free_space = free_space
        self.progress = progress
        self._retry_delay = retry_delay

    async def install(self, source: str | None = None) -> list[str]:
        """Install every model from `source` (default: `[facedb] models_source`)."""
        files = plan(self.facedb.models_source if source is None else source)
        staging = self.models_dir / f".staging-{uuid.uuid4().hex[:12]}"
        downloads = self.models_dir / ".downloads"
        await asyncio.to_thread(staging.mkdir, parents=True)
        try:
            fetched: dict[str, Path] = {}
            for item in files:
                origin = fetched.get(item.url) or await self._fetch(item.url, downloads)
                fetched[item.url] = origin
                await asyncio.to_thread(_place, item, origin, staging / item.name)
            await self.progress("verifying", 0, None)
            await asyncio.to_thread(self._check, files, staging)
            await self.progress("switching", 0, None)
            await asyncio.to_thread(_move_into, staging, self.models_dir)
            for path in fetched.values():
                if path.is_relative_to(downloads):
                    await asyncio.to_thread(path.unlink, True)
        finally:
            await asyncio.to_thread(shutil.rmtree, staging, True)
        return [item.name for item in files]

    async def _fetch(self, location: str, downloads: Path) -> Path:
        """Download a URL (resuming); a local path is used where it is."""
        if urlsplit(location).scheme not in ("http", "https"):
            path = Path(location)
            if not await asyncio.to_thread(path.is_file):
                raise FaceDbError(f"model source {path} is not a file")
            return path
        digest = hashlib.sha256(location.encode()).hexdigest()[:16]
        name = PurePosixPath(urlsplit(location).path).name or "model"

        async def report(done: int, total: int | None) -> None:
            await self.progress(f"downloading {name}", done, total)

        return await download(
            location,
            downloads / f"{digest}-{name}.part",
            self.facedb,
            retry_delay=self._retry_delay,
            free_space=self._free_space,
            progress=report,
        )

    def _check(self, files: tuple[ModelFile, ...], staging: Path) -> None:
        """Check pinned digests, then load the set as the daemon would (blocking)."""
        for item in files:
            if item.sha256 is not None and sha256_file(staging / item.name) != item.sha256:
                raise FaceDbError(
                    f"{item.name} fails its checksum; the installed models are unchanged"
                )
        try:
            FaceModels.load(staging, self.faces)
        except (FaceError, OSError) as err:
            text = " ".join(str(err).split())
            raise FaceDbError(f"the new models do not load ({text}); nothing was replaced") from err


def _place(item: ModelFile, origin: Path, target: Path) -> None:
    """Copy one model (or extract it from a zip) into staging."""
    if not item.in_zip:
        shutil.copyfile(origin, target)
        return
    try:
        with zipfile.ZipFile(origin) as archive:
            member = next(_members_named(archive, item.name), None)
            if member is None:
                raise FaceDbError(f"{origin.name} holds no {item.name}")
            with archive.open(member) as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink, 1 << 20)
    except zipfile.BadZipFile as err:
        raise FaceDbError(f"{origin.name} is not a valid zip ({err})") from err


def _members_named(archive: zipfile.ZipFile, name: str) -> Iterator[zipfile.ZipInfo]:
    """Yield file members whose base name is `name` (never extracted by their own path)."""
    for info in archive.infolist():
        if not info.is_dir() and PurePosixPath(info.filename).name == name:
            yield info


def _move_into(staging: Path, models_dir: Path) -> None:
    """Replace each model file atomically (os.replace within one folder)."""
    for name in MODEL_FILES:
        os.replace(staging / name, models_dir / name)
