"""Release zips built with the face test kit, good and deliberately broken."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path
from typing import Any

from tests.faces.release import random_performers, write_release


def release_folder(directory: Path, version: str, **options: Any) -> Path:
    """Write a small release (8 random performers) into `directory`."""
    write_release(directory, random_performers(8, 2, seed=len(version)), version=version, **options)
    return directory


def zip_folder(folder: Path, target: Path, *, extra: dict[str, bytes] | None = None) -> Path:
    """Zip a release folder flat, optionally with extra members (names taken verbatim)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, path.name)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return target


def release_zip(tmp: Path, version: str, **options: Any) -> Path:
    """Build a release and return its zip (in `tmp`)."""
    folder = release_folder(tmp / f"src-{version}", version, **options)
    return zip_folder(folder, tmp / f"release-{version}.zip")


def with_symlink(zip_path: Path, name: str, target: str) -> Path:
    """Add a symbolic-link member to a zip."""
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(zip_path, "a") as archive:
        archive.writestr(info, target)
    return zip_path
