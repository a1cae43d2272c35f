"""The review queue's runtime objects, published by its start-up context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stash_sense.review.queue import ReviewQueue


@dataclass(frozen=True)
class ReviewRuntime:
    """The review queue."""

    queue: ReviewQueue
