"""Typed errors of the Stash client; messages never carry the API key."""

from __future__ import annotations

from collections.abc import Iterable


class StashError(Exception):
    """Base class of every error the Stash client raises."""


class StashUnavailable(StashError):
    """Stash could not be reached or answered with a transient failure, after retries."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        # Seconds Stash (or a proxy) asked us to wait, from a Retry-After header.
        self.retry_after = retry_after


class StashAuthError(StashError):
    """Stash refused the credentials (HTTP 401/403): the API key is wrong or missing."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class StashQueryError(StashError):
    """Stash rejected the request: GraphQL errors or a non-transient HTTP 4xx."""

    def __init__(self, operation: str, messages: Iterable[str]) -> None:
        self.operation = operation
        self.messages = tuple(messages) or ("unknown error",)
        super().__init__(f"{operation}: " + "; ".join(self.messages))


class StashIncompatible(StashError):
    """Stash's schema lacks what our operations need."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("Stash schema is incompatible: " + "; ".join(self.problems))
