"""Where installed releases live and which one is active.

Layout under the face-database folder (`faces.database_dir`):

    releases/<version>/   one unpacked release per folder
    state.json            {"current": "<version>", "previous": "<version>" | null}
    downloads/            partial downloads (`<name>.part`) kept across tries
    staging/              archives being unpacked; never loaded from
    .lock                 held by whoever installs, so two installers never race

`state.json` is the pointer: it is replaced atomically (`os.replace`), so a reader sees
the old release or the new one, never a mix. Without it the folder itself is the release
(a folder the user unpacked by hand), as before installs existed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from stash_sense.faces.types import FaceError

STATE_FILE = "state.json"
RELEASES = "releases"
DOWNLOADS = "downloads"
STAGING = "staging"
LOCK_FILE = ".lock"
_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,63}")


class FaceDbError(FaceError):
    """An install, update or rollback failed; the message is one line that says why."""


@dataclass(frozen=True)
class InstallState:
    """Which installed release is active and which one a rollback returns to."""

    current: str | None = None
    previous: str | None = None


def check_version(version: str) -> str:
    """Return `version` if it is safe as a folder name, else raise FaceDbError."""
    if not _VERSION.fullmatch(version) or ".." in version:
        raise FaceDbError(f"release version {version[:70]!r} is not a valid version name")
    return version


class Layout:
    """The files of one face-database folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser().resolve()
        self.releases = self.root / RELEASES
        self.downloads = self.root / DOWNLOADS
        self.staging = self.root / STAGING
        self.state_file = self.root / STATE_FILE

    def release_dir(self, version: str) -> Path:
        """Return the folder of an installed release."""
        return self.releases / check_version(version)

    def read_state(self) -> InstallState:
        """Return the pointer; an absent or unreadable one means "the folder itself"."""
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return InstallState()
        if not isinstance(data, dict):
            return InstallState()
        current, previous = data.get("current"), data.get("previous")
        return InstallState(
            current if isinstance(current, str) else None,
            previous if isinstance(previous, str) else None,
        )

    def write_state(self, state: InstallState) -> None:
        """Replace the pointer atomically (written and synced beside it first)."""
        self.root.mkdir(parents=True, exist_ok=True)
        temporary = self.state_file.with_name(STATE_FILE + ".tmp")
        payload = json.dumps({"current": state.current, "previous": state.previous}, indent=1)
        with temporary.open("w", encoding="utf-8") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, self.state_file)

    def active_dir(self) -> Path:
        """Return the folder to load: the current installed release, else the root."""
        current = self.read_state().current
        if current is not None:
            with contextlib.suppress(FaceDbError):
                folder = self.release_dir(current)
                if folder.is_dir():
                    return folder
        return self.root

    def installed(self) -> list[str]:
        """Return the versions unpacked under releases/, sorted."""
        if not self.releases.is_dir():
            return []
        found = (p.name for p in self.releases.iterdir() if p.is_dir())
        return sorted(name for name in found if _VERSION.fullmatch(name))

    def prune(self) -> list[str]:
        """Delete releases other than the current and previous ones; return their versions."""
        state = self.read_state()
        keep = {state.current, state.previous}
        removed = [v for v in self.installed() if v not in keep]
        for version in removed:
            shutil.rmtree(self.releases / version, ignore_errors=True)
        return removed

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the install lock; raise FaceDbError if another installer holds it."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / LOCK_FILE).open("a+") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise FaceDbError(
                    f"another install is running in {self.root} (the daemon or a command)"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def active_database_dir(database_dir: Path) -> Path:
    """Return the release folder the daemon should load for `faces.database_dir`."""
    return Layout(database_dir).active_dir()
