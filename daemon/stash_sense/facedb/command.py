"""The `facedb` and `models` commands: install in this process, with a progress bar on stderr."""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import TextIO, TypeVar

from stash_sense.config import Config
from stash_sense.facedb.download import FreeSpace, disk_free
from stash_sense.facedb.installer import AlreadyInstalled, Installer
from stash_sense.facedb.layout import FaceDbError
from stash_sense.facedb.source import newer

CACHE_FILE = "face-db-verified.json"  # the daemon's checksum cache (daemon.py names it too)
_WIDTH = 30
_MB = 1_000_000
_REDRAW_SECONDS = 0.2
T = TypeVar("T")


class TerminalProgress:
    """Draw a one-line bar on a terminal; on a pipe, print one line per stage."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr  # looked up now: tests and shells swap it
        self._tty = self._stream.isatty()
        self._stage = ""
        self._drawn = 0.0
        self._open = False

    async def __call__(self, stage: str, done: int, total: int | None) -> None:
        """Show the progress of one stage."""
        changed = stage != self._stage
        if changed:
            self.finish()
            self._stage = stage
            if not self._tty:
                print(f"{stage}…", file=self._stream, flush=True)
        if not self._tty or not total:
            return
        now = time.monotonic()
        if not changed and done < total and now - self._drawn < _REDRAW_SECONDS:
            return
        self._drawn = now
        filled = int(_WIDTH * min(done / total, 1.0))
        bar = "#" * filled + "-" * (_WIDTH - filled)
        line = f"\r{stage} [{bar}] {done / _MB:.1f}/{total / _MB:.1f} MB"
        print(line, end="", file=self._stream, flush=True)
        self._open = True

    def finish(self) -> None:
        """End a drawn bar's line."""
        if self._open:
            print(file=self._stream, flush=True)
            self._open = False


def _installer(config: Config, progress: TerminalProgress, free_space: FreeSpace) -> Installer:
    return Installer(
        config.faces,
        config.facedb,
        cache_file=Path(config.paths.data_dir).expanduser().resolve() / CACHE_FILE,
        progress=progress,
        free_space=free_space,
    )


def facedb_status(config: Config) -> int:
    """Print what is installed and where."""
    status = Installer(config.faces, config.facedb).status()
    print(f"installed: {status['installed_version'] or 'none'} ({status['active_dir']})")
    print(f"previous:  {status['previous'] or 'none'}")
    print(f"releases:  {', '.join(status['releases']) or 'none'}")
    print(f"source:    {status['source']}")
    return 0


async def facedb_install(
    config: Config,
    *,
    version: str | None = None,
    source: str | None = None,
    only_if_newer: bool = False,
    free_space: FreeSpace = disk_free,
) -> int:
    """Install a release (the newest, a version, or from a source); one line on failure."""
    progress = TerminalProgress()
    installer = _installer(config, progress, free_space)
    try:
        offer = await installer.offer(source, version)
        if only_if_newer:
            current = installer.status()["installed_version"]
            if newer(offer.version, current) is False:
                print(f"face database {current} is up to date")
                return 0
        installed = await installer.install(offer)
    except AlreadyInstalled as err:
        progress.finish()
        print(str(err))
        return 0
    except FaceDbError as err:
        progress.finish()
        print(f"error: {err}", file=sys.stderr)
        return 1
    progress.finish()
    previous = f"; rollback returns to {installed.previous}" if installed.previous else ""
    print(f"face database {installed.version} installed{previous}")
    return 0


async def facedb_rollback(config: Config) -> int:
    """Return to the previous release."""
    progress = TerminalProgress()
    installed = await _attempt(progress, _installer(config, progress, disk_free).rollback())
    if installed is None:
        return 1
    print(f"face database {installed.version} is current again (was {installed.previous})")
    return 0


async def models_install(
    config: Config, *, source: str | None = None, free_space: FreeSpace = disk_free
) -> int:
    """Install the three models."""
    # imported here: the models pull in ONNX Runtime and OpenCV, which facedb commands never need
    from stash_sense.facedb.models import ModelInstaller  # noqa: PLC0415

    progress = TerminalProgress()
    installer = ModelInstaller(
        config.faces, config.facedb, progress=progress, free_space=free_space
    )
    names = await _attempt(progress, installer.install(source))
    if names is None:
        return 1
    print(f"models installed in {installer.models_dir}: {', '.join(names)}")
    return 0


async def _attempt(progress: TerminalProgress, step: Awaitable[T]) -> T | None:
    """Run a step; on failure print its one line to stderr and return None."""
    try:
        return await step
    except FaceDbError as err:
        progress.finish()
        print(f"error: {err}", file=sys.stderr)
        return None
    finally:
        progress.finish()
