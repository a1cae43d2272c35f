"""Whether the database accepts writes: the last write error, classified, until one succeeds."""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from enum import StrEnum

_LOGGER = logging.getLogger(__name__)

# Primary SQLite result codes (extended codes keep these in their low byte).
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_FULL = 13
LOG_QUIET_SECONDS = 60.0


class StoreProblem(StrEnum):
    """Why writes to the database fail."""

    DISK_FULL = "disk_full"
    READ_ONLY = "read_only"
    LOCKED = "locked"
    OTHER = "other"


def classify(err: BaseException) -> StoreProblem | None:
    """Say which store problem an exception is, or None when it is not one.

    Constraint violations and programming errors are bugs or bad input, not an
    unhealthy store, so only operational errors (the file, the disk, a lock) count.
    """
    if not isinstance(err, sqlite3.OperationalError | sqlite3.DatabaseError) or isinstance(
        err, sqlite3.IntegrityError | sqlite3.ProgrammingError | sqlite3.InterfaceError
    ):
        return None
    code = getattr(err, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(err).lower()
    if primary == _SQLITE_FULL or "disk is full" in text:
        return StoreProblem.DISK_FULL
    if primary == _SQLITE_READONLY or "readonly database" in text:
        return StoreProblem.READ_ONLY
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED) or "is locked" in text:
        return StoreProblem.LOCKED
    if isinstance(err, sqlite3.OperationalError):
        return StoreProblem.OTHER
    return None


def refusal(err: BaseException) -> StoreProblem | None:
    """Say why the store refused a write (full, read-only, locked); None for anything else."""
    problem = classify(err)
    return None if problem is StoreProblem.OTHER else problem


@dataclass
class StoreHealth:
    """The last write failure of the database, cleared by the next successful write."""

    problem: StoreProblem | None = None
    error: str | None = None
    since: float | None = None
    _logged: StoreProblem | None = None
    _logged_at: float = 0.0
    _recovered_at: float = 0.0

    @property
    def ok(self) -> bool:
        """Tell whether the last write succeeded."""
        return self.problem is None

    def failed(self, problem: StoreProblem, err: BaseException) -> None:
        """Record a failed write; log a new problem, or one back after a quiet minute."""
        now = time.time()
        if self.problem is None:
            self.since = now
        self.problem = problem
        self.error = str(err)
        # A full disk often lets some writes through (those that need no new page):
        # the state flickers, and one line a minute says enough.
        if problem != self._logged or now - self._logged_at > LOG_QUIET_SECONDS:
            _LOGGER.error("Database writes fail (%s): %s", problem.value, err)
            self._logged, self._logged_at = problem, now

    def succeeded(self) -> None:
        """Record a successful write; say so (at most once a minute) after a failure."""
        now = time.time()
        if self.problem is not None and now - self._recovered_at > LOG_QUIET_SECONDS:
            _LOGGER.info("Database writes work again after %s", self.problem.value)
            self._recovered_at = now
        self.problem = self.error = self.since = None
