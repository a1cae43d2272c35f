"""Errors of the review queue, each with a stable code the API and bulk results use."""

from __future__ import annotations

from stash_sense.review.models import ItemError, ReviewState
from stash_sense.stash.errors import StashError


class ReviewError(Exception):
    """Base class of every review queue error."""

    code = "review_error"


class UnknownKind(ReviewError):
    """No kind of that name is registered."""

    code = "unknown_kind"


class InvalidPayload(ReviewError):
    """A payload (or a field of an item) does not fit its kind."""

    code = "invalid_payload"


class ActionRefused(ReviewError):
    """A kind's handler cannot act now (dry-run mode, unknown stash-box); the item stays pending."""

    code = "accept_refused"


class InvalidOptions(ReviewError):
    """Accept options a kind's handler refuses; handlers raise it."""

    code = "invalid_options"


class ItemNotFound(ReviewError):
    """No item has that id."""

    code = "not_found"

    def __init__(self, item_id: int) -> None:
        super().__init__(f"no review item {item_id}")
        self.item_id = item_id


class ReviewConflict(ReviewError):
    """The item's state does not allow the request."""

    code = "conflict"

    def __init__(self, item_id: int, state: ReviewState, action: str) -> None:
        why = "is being accepted" if state is ReviewState.ACCEPTING else f"is {state.value}"
        super().__init__(f"review item {item_id} {why}; it cannot be {action}")
        self.item_id = item_id
        self.state = state


class ConfirmationRequired(ReviewError):
    """A destructive kind needs an explicit confirmation, and never runs automatically."""

    code = "confirmation_required"


class AcceptTimeout(ReviewError):
    """A kind's accept handler ran past its time limit; the item is pending again."""

    code = "accept_timeout"


class ReviewClosed(ReviewError):
    """The queue is shutting down and takes no more accepts."""

    code = "unavailable"


def item_error(err: Exception) -> ItemError:
    """Describe an exception for a bulk result without leaking internals."""
    if isinstance(err, ReviewError):
        return ItemError(err.code, str(err))
    if isinstance(err, StashError):
        return ItemError("upstream_error", str(err))
    return ItemError("internal", "internal error; see the daemon log")
