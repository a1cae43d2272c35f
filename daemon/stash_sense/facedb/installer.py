"""Install, update and roll back face-database releases; the current one serves until the switch.

Every step before the switch works beside the current release: download (resumable),
unpack into staging/, verify exactly as loading does (`FaceDatabase.load` with every
manifest checksum hashed), move to releases/<version>/. Only then is the pointer
replaced, the previous release kept for rollback, and older ones pruned. Any failure
before that leaves the current database as it was and raises FaceDbError.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stash_sense.config import FaceDbConfig, FacesConfig
from stash_sense.facedb.download import (
    FreeSpace,
    check_space,
    client_session,
    disk_free,
    download,
)
from stash_sense.facedb.layout import FaceDbError, InstallState, Layout, check_version
from stash_sense.facedb.source import Offer, find_offer, local_version
from stash_sense.facedb.unpack import unpack, unpacked_size
from stash_sense.faces.database import FaceDatabase
from stash_sense.faces.types import DatabaseError

_LOGGER = logging.getLogger(__name__)
UNPACK_FACTOR = 1.2  # unpacked size estimate per zip byte, before the zip can be read

Stage = Callable[[str, int, int | None], Awaitable[None]]  # stage, done, total


async def no_progress(stage: str, done: int, total: int | None) -> None:
    return None


class AlreadyInstalled(FaceDbError):
    """The wanted release is already the current one; nothing changed."""


@dataclass
class Installed:
    """The outcome of an install or rollback: the now-current release, loaded and verified."""

    version: str
    database: FaceDatabase
    previous: str | None
    pruned: list[str] = field(default_factory=list)


class Installer:
    """Install releases into `faces.database_dir` from `[facedb]`'s source."""

    def __init__(
        self,
        faces: FacesConfig,
        facedb: FaceDbConfig,
        *,
        cache_file: Path | None = None,
        free_space: FreeSpace = disk_free,
        progress: Stage = no_progress,
        retry_delay: float = 1.0,
    ) -> None:
        self.faces = faces
        self.facedb = facedb
        self.layout = Layout(Path(faces.database_dir))
        self._cache_file = cache_file
        self._free_space = free_space
        self.progress = progress
        self._retry_delay = retry_delay

    async def offer(self, source: str | None = None, version: str | None = None) -> Offer:
        """Find the release `source` (default: the configured one) offers."""
        async with client_session(self.facedb) as session:
            return await find_offer(
                source or self.facedb.source,
                version=version,
                github_api_url=self.facedb.github_api_url,
                session=session,
            )

    async def install(self, offer: Offer) -> Installed:
        """Fetch, verify and switch to `offer`; raise FaceDbError (AlreadyInstalled) otherwise."""
        layout = self.layout
        await asyncio.to_thread(layout.root.mkdir, parents=True, exist_ok=True)
        with layout.lock():
            state = layout.read_state()
            if offer.version is not None and self._is_current(offer.version, state):
                raise AlreadyInstalled(f"release {offer.version} is already installed")
            # under the lock nobody else is unpacking: anything here is a crashed try's
            await asyncio.to_thread(shutil.rmtree, layout.staging, True)
            archive = await self._fetch(offer)
            staging = layout.staging / uuid.uuid4().hex[:12]
            try:
                await self._unpack(archive or Path(offer.location), staging)
                found = local_version(staging)
                if found is None:
                    raise FaceDbError("the release's manifest.json is unreadable or has no version")
                version = check_version(found)
                if self._is_current(version, state):
                    raise AlreadyInstalled(f"release {version} is already installed")
                await self.progress("verifying", 0, None)
                database = await self._load(staging, verify="always", cache=False)
                final = layout.release_dir(version)
                await asyncio.to_thread(_replace_folder, staging, final)
            except FaceDbError:
                # a complete download that fails its checks is fetched afresh next time
                if archive is not None:
                    await asyncio.to_thread(archive.unlink, True)
                raise
            finally:
                await asyncio.to_thread(shutil.rmtree, staging, True)
            database.directory = final
            previous = state.current if state.current != version else state.previous
            return await self._switch(version, previous, database, remove=archive)

    async def rollback(self) -> Installed:
        """Make the previous release current again (it is checked as loading does first)."""
        layout = self.layout
        with layout.lock():
            state = layout.read_state()
            target = state.previous
            if target is None or not layout.release_dir(target).is_dir():
                raise FaceDbError(f"no previous release to roll back to in {layout.root}")
            await self.progress("verifying", 0, None)
            database = await self.load_release(layout.release_dir(target))
            return await self._switch(target, state.current, database, remove=None)

    def status(self) -> dict[str, Any]:
        """Describe what is installed (blocking, reads a few small files)."""
        layout = self.layout
        state = layout.read_state()
        active = layout.active_dir()
        return {
            "database_dir": str(layout.root),
            "active_dir": str(active),
            "installed_version": local_version(active),
            "current": state.current,
            "previous": state.previous,
            "releases": layout.installed(),
            "source": self.facedb.source,
        }

    def _is_current(self, version: str, state: InstallState) -> bool:
        return version == state.current and self.layout.release_dir(version).is_dir()

    async def _fetch(self, offer: Offer) -> Path | None:
        """Download a remote zip (resuming); return its path, or None for a local source."""
        if not offer.is_remote:
            return None
        digest = hashlib.sha256(offer.location.encode()).hexdigest()[:16]
        part = self.layout.downloads / f"release-{digest}.zip.part"

        async def report(done: int, total: int | None) -> None:
            await self.progress("downloading", done, total)

        return await download(
            offer.location,
            part,
            self.facedb,
            retry_delay=self._retry_delay,
            free_space=self._free_space,
            progress=report,
            needed=lambda size: int(size * UNPACK_FACTOR),
        )

    async def _unpack(self, source: Path, staging: Path) -> None:
        """Copy a folder or unpack a zip into staging, after checking the space it needs."""
        await self.progress("unpacking", 0, None)
        if await asyncio.to_thread(source.is_dir):
            size = await asyncio.to_thread(_folder_size, source)
            check_space(self.layout.root, size, self._free_space, "the unpacked release")
            await asyncio.to_thread(_copy_folder, source, staging)
            return
        size = await asyncio.to_thread(unpacked_size, source)
        check_space(self.layout.root, size, self._free_space, "the unpacked release")
        await asyncio.to_thread(unpack, source, staging)

    async def load_release(self, folder: Path) -> FaceDatabase:
        """Load an installed release as the daemon does (checksums per `verify_checksums`)."""
        return await self._load(folder, verify=self.faces.verify_checksums, cache=True)

    async def _load(self, folder: Path, *, verify: str, cache: bool) -> FaceDatabase:
        """Load a release off the loop exactly as the daemon does; one line on failure."""
        try:
            return await asyncio.to_thread(
                FaceDatabase.load,
                folder,
                verify=verify,
                ef=self.faces.query_ef,
                cache_file=self._cache_file if cache else None,
            )
        except DatabaseError as err:
            # the staging folder's name means nothing to the reader; the problem does
            problem = str(err).removeprefix(f"face database {folder}: ")
            raise FaceDbError(f"the release is not usable: {problem}") from err

    async def _switch(
        self, version: str, previous: str | None, database: FaceDatabase, *, remove: Path | None
    ) -> Installed:
        """Point at `version` atomically, prune, and drop the finished download."""
        await self.progress("switching", 0, None)
        layout = self.layout
        await asyncio.to_thread(layout.write_state, InstallState(version, previous))
        pruned = await asyncio.to_thread(layout.prune)
        if remove is not None:
            await asyncio.to_thread(remove.unlink, True)
        _LOGGER.info(
            "Face database %s is now current (previous: %s; pruned: %s)",
            version,
            previous or "none",
            ", ".join(pruned) or "none",
        )
        return Installed(version, database, previous, pruned)


def _replace_folder(source: Path, target: Path) -> None:
    """Move `source` to `target`, replacing an older copy of the same release."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        shutil.rmtree(target)
    os.replace(source, target)


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _copy_folder(source: Path, target: Path) -> None:
    """Copy an unpacked release (files only; links are refused like zip members)."""
    for path in source.rglob("*"):
        if path.is_symlink():
            raise FaceDbError(f"refusing the release folder: {path} is a symbolic link")
    shutil.copytree(source, target)
