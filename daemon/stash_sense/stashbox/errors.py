"""Typed errors of the stash-box client; each names its endpoint, none carries the API key."""

from __future__ import annotations

from collections.abc import Iterable

from ..stash.errors import StashAuthError, StashError, StashQueryError, StashUnavailable


class StashBoxError(Exception):
    """Base class of every error the stash-box client raises."""

    def __init__(self, message: str, *, endpoint: str) -> None:
        super().__init__(message)
        self.endpoint = endpoint


class StashBoxUnavailable(StashBoxError):
    """The endpoint could not be reached or failed transiently, after retries."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, endpoint=endpoint)
        self.status = status
        # Seconds the endpoint (or a proxy) asked us to wait, from a Retry-After header.
        self.retry_after = retry_after


class StashBoxAuthError(StashBoxError):
    """The endpoint refused the API key (HTTP 401/403)."""

    def __init__(self, message: str, *, endpoint: str, status: int) -> None:
        super().__init__(message, endpoint=endpoint)
        self.status = status


class StashBoxQueryError(StashBoxError):
    """The endpoint rejected the request: GraphQL errors or a non-transient HTTP 4xx."""

    def __init__(self, operation: str, messages: Iterable[str], *, endpoint: str) -> None:
        self.operation = operation
        self.messages = tuple(messages) or ("unknown error",)
        message = f"{operation} ({endpoint}): " + "; ".join(self.messages)
        super().__init__(message, endpoint=endpoint)


def from_stash_error(error: StashError, endpoint: str) -> StashBoxError:
    """Convert an error of the shared transport mapping into the stash-box family."""
    if isinstance(error, StashUnavailable):
        return StashBoxUnavailable(
            str(error), endpoint=endpoint, status=error.status, retry_after=error.retry_after
        )
    if isinstance(error, StashAuthError):
        return StashBoxAuthError(str(error), endpoint=endpoint, status=error.status)
    if isinstance(error, StashQueryError):
        return StashBoxQueryError(error.operation, error.messages, endpoint=endpoint)
    return StashBoxError(str(error), endpoint=endpoint)
