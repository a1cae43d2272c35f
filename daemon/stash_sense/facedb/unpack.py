"""Check a release zip's members and unpack it; nothing may land outside the target folder."""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from stash_sense.facedb.layout import FaceDbError
from stash_sense.faces.database import MANIFEST

_COPY_CHUNK = 1 << 20


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    """Say why a member is unsafe to unpack, or return None."""
    name = info.filename
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "is a symbolic link"
    if "\\" in name or "\x00" in name:
        return "has a backslash or NUL in its name"
    path = PurePosixPath(name)
    if path.is_absolute() or (path.parts and path.parts[0].endswith(":")):
        return "has an absolute path"
    if ".." in path.parts:
        return "climbs out of the folder (..)"
    return None


def release_members(archive: zipfile.ZipFile) -> tuple[list[zipfile.ZipInfo], str]:
    """Return the file members to unpack and the folder prefix that holds manifest.json."""
    files: list[zipfile.ZipInfo] = []
    for info in archive.infolist():
        problem = _member_problem(info)
        if problem is not None:
            raise FaceDbError(f"refusing the release zip: member {info.filename[:80]!r} {problem}")
        if not info.is_dir():
            files.append(info)
    manifests = [i.filename for i in files if PurePosixPath(i.filename).name == MANIFEST]
    if not manifests:
        raise FaceDbError(f"the release zip has no {MANIFEST}")
    # releases are zipped flat; a single top folder is accepted too
    prefix = min(manifests, key=len)[: -len(MANIFEST)]
    return [i for i in files if i.filename.startswith(prefix)], prefix


def unpacked_size(zip_path: Path) -> int:
    """Return the bytes the release occupies once unpacked."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members, _ = release_members(archive)
    except (zipfile.BadZipFile, OSError) as err:
        raise FaceDbError(f"{zip_path.name} is not a readable zip ({_words(err)})") from err
    return sum(i.file_size for i in members)


def unpack(zip_path: Path, target: Path) -> None:
    """Unpack the release in `zip_path` flat into `target` (blocking; run it in a thread)."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members, prefix = release_members(archive)
            target.mkdir(parents=True, exist_ok=False)
            for info in members:
                relative = PurePosixPath(info.filename[len(prefix) :])
                destination = target.joinpath(*relative.parts)
                # belt and braces: the checks above already refuse anything leaving target
                if not destination.resolve().is_relative_to(target.resolve()):
                    raise FaceDbError(f"refusing the release zip: {info.filename!r} leaves it")
                destination.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as source, destination.open("wb") as sink:
                    shutil.copyfileobj(source, sink, _COPY_CHUNK)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as err:
        raise FaceDbError(f"{zip_path.name} is not a valid zip ({_words(err)})") from err
    except OSError as err:
        raise FaceDbError(f"cannot unpack {zip_path.name} ({_words(err)})") from err


def _words(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__
