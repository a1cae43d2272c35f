"""The daemon's side of installs: durable jobs, the update check, and reloads without restart."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from stash_sense.facedb.installer import AlreadyInstalled, Installed, Installer
from stash_sense.facedb.layout import FaceDbError
from stash_sense.facedb.source import newer
from stash_sense.identify.service import FaceService
from stash_sense.queue import JobContext, JobType, PermanentJobError, Priority, Resource

_LOGGER = logging.getLogger(__name__)
INSTALL = "facedb.install"
ROLLBACK = "facedb.rollback"
JOB_KEY = "facedb"  # one install or rollback at a time, whichever kind
_MB = 1_000_000
_REPORT_SECONDS = 1.0


@dataclass(frozen=True)
class InstallArgs:
    """Arguments of `facedb.install`: a version (github sources) and/or another source."""

    version: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class RollbackArgs:
    """Arguments of `facedb.rollback` (none)."""


@dataclass
class UpdateCheck:
    """The last look for a newer release."""

    checked_at: float | None = None
    update_available: bool | None = None
    latest: dict[str, Any] | None = None
    error: str | None = None

    def json(self) -> dict[str, Any]:
        """Describe the check for the API."""
        return {
            "checked_at": self.checked_at,
            "update_available": self.update_available,
            "latest_version": (self.latest or {}).get("version"),
            "latest": self.latest,
            "error": self.error,
        }


class FaceDbService:
    """Run installs and rollbacks as jobs and hand each verified release to FaceService."""

    def __init__(self, installer: Installer, faces: FaceService) -> None:
        self.installer = installer
        self._faces = faces
        self.update = UpdateCheck()
        self._seen = self._pointer()
        self._busy = False  # a job of ours is switching: the watcher leaves the pointer alone

    async def check(self) -> UpdateCheck:
        """Ask the source for its release and compare it with the installed one."""
        status = await asyncio.to_thread(self.installer.status)
        try:
            offer = await self.installer.offer()
        except FaceDbError as err:
            self.update = UpdateCheck(time.time(), None, None, str(err))
        else:
            available = newer(offer.version, status["installed_version"])
            self.update = UpdateCheck(time.time(), available, offer.json(), None)
        return self.update

    async def install(self, context: JobContext, args: InstallArgs) -> None:
        """Install a release (the job handler); failures are one line, the old DB serves on."""

        last = 0.0

        async def report(stage: str, done: int, total: int | None) -> None:
            nonlocal last
            if stage != "downloading":
                await context.progress(0, None, stage)
            elif total and (done >= total or time.monotonic() - last >= _REPORT_SECONDS):
                # one stored progress row per second, not one per MiB
                last = time.monotonic()
                message = f"downloading {done / _MB:.1f} of {total / _MB:.1f} MB"
                await context.progress(done, total, message)

        self.installer.progress = report

        async def step() -> Installed:
            offer = await self.installer.offer(args.source, args.version)
            return await self.installer.install(offer)

        await self._change(context, step)

    async def rollback(self, context: JobContext, args: RollbackArgs) -> None:
        """Return to the previous release (the job handler)."""
        await self._change(context, self.installer.rollback)

    async def _change(self, context: JobContext, step: Callable[[], Awaitable[Installed]]) -> None:
        """Run an install or rollback; failures are one line and the old release serves on."""
        self._busy = True
        try:
            installed = await step()
        except AlreadyInstalled as err:
            await context.progress(1, 1, str(err))
            return
        except FaceDbError as err:
            raise PermanentJobError(str(err)) from None
        finally:
            self._busy = False
        await self._use(installed, context)

    async def _use(self, installed: Installed, context: JobContext) -> None:
        """Serve the new release and remember the pointer, so the watcher does not reload it."""
        self._seen = self._pointer()
        await self._faces.swap_database(installed.database)
        if self.update.latest is not None:
            self.update.update_available = newer(
                self.update.latest.get("version"), installed.version
            )
        status = self._faces.status
        message = f"release {installed.version} is in use"
        if not status.ready:
            message = (
                f"release {installed.version} installed; "
                f"identification is not ready: {status.error}"
            )
        await context.progress(1, 1, message)

    async def watch(self, interval: float = 5.0) -> None:
        """Reload when another process (`stash-sense facedb install`) switches the release."""
        while True:
            await asyncio.sleep(interval)
            pointer = self._pointer()
            if pointer == self._seen or self._busy:
                continue
            self._seen = pointer
            folder = self.installer.layout.active_dir()
            _LOGGER.info("Face database pointer changed; loading %s", folder)
            try:
                database = await self.installer.load_release(folder)
            except FaceDbError as err:
                _LOGGER.error("Keeping the face database in use: %s", err)
                continue
            await self._faces.swap_database(database)

    async def check_every(self, hours: float) -> None:
        """Look for a newer release periodically (first look right away)."""
        while True:
            update = await self.check()
            if update.error:
                _LOGGER.warning("Face database update check failed: %s", update.error)
            elif update.update_available:
                latest = update.json()["latest_version"]
                _LOGGER.info("A newer face database is available: %s", latest)
            await asyncio.sleep(hours * 3600)

    async def status(self) -> dict[str, Any]:
        """Describe installed, loaded and available releases for the API."""
        status = await asyncio.to_thread(self.installer.status)
        return {
            **status,
            "loaded": self._faces.status.database,
            "update": self.update.json(),
        }

    def _pointer(self) -> tuple[int, int] | None:
        """Return the pointer file's (mtime, inode), or None; each os.replace changes it."""
        with contextlib.suppress(OSError):
            stat = os.stat(self.installer.layout.state_file)
            return stat.st_mtime_ns, stat.st_ino
        return None

    def job_types(self) -> tuple[JobType[InstallArgs], JobType[RollbackArgs]]:
        """Describe the two jobs for the registry."""
        return (
            JobType(
                name=INSTALL,
                args_type=InstallArgs,
                handler=self.install,
                resource=Resource.IO,
                priority=Priority.HIGH,
                max_attempts=3,  # a daemon restart mid-download resumes the partial file
            ),
            JobType(
                name=ROLLBACK,
                args_type=RollbackArgs,
                handler=self.rollback,
                resource=Resource.IO,
                priority=Priority.HIGH,
                max_attempts=3,
            ),
        )
