"""Kinds of review items: each declares its payload, its policy and its handlers."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from stash_sense.review.errors import InvalidPayload, UnknownKind
from stash_sense.review.models import ResuggestPolicy, ReviewItem, dumps
from stash_sense.review.payload import dump_payload, load_payload

P = TypeVar("P")
_NAME = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")


class ReviewKind(ABC, Generic[P]):
    """One kind of decision.

    Subclasses set the class attributes and implement `accept`:

        class TagSuggestion(ReviewKind[TagPayload]):
            name = "tag_suggestion"
            payload_type = TagPayload

            async def accept(self, item, options):
                ...  # write to Stash idempotently
                return {"tag_id": 7}

    `accept` runs at most once at a time per item but may run again after a crash
    (the item is pending again at start-up), so it must be idempotent, like a job.
    """

    name: str
    payload_type: type[P]
    # Accepting needs `confirm=True` and is never automatic.
    destructive: bool = False
    # Scene kinds require a scene id on every item; other kinds forbid one.
    scene_scoped: bool = True
    resuggest_after_resolve: ResuggestPolicy = ResuggestPolicy()
    accept_timeout_seconds: float = 120.0

    @abstractmethod
    async def accept(self, item: ReviewItem, options: dict[str, Any]) -> dict[str, Any]:
        """Perform the accepted action and return what it did (stored as the outcome)."""

    async def describe(self, item: ReviewItem) -> dict[str, Any]:
        """Return extra fields for the API's item view (e.g. crop URLs)."""
        return {}

    def check(self, payload: P) -> None:
        """Check what types cannot say (ranges, formats); raise `InvalidPayload`."""

    def fingerprint(self, payload: dict[str, Any]) -> str:
        """Return what the re-suggestion policy compares; override to ignore volatile fields."""
        return hashlib.sha256(dumps(payload).encode()).hexdigest()[:32]

    def load(self, data: Mapping[str, Any] | None) -> P:
        """Parse a stored or proposed payload into the payload dataclass."""
        if data is None:
            raise InvalidPayload(f"this {self.name} item has no payload")
        payload = load_payload(self.payload_type, data)
        self.check(payload)
        return payload

    def normalize(self, payload: Any) -> dict[str, Any]:
        """Validate a payload (dataclass or JSON object) and return its JSON form."""
        if isinstance(payload, self.payload_type):
            payload = dump_payload(payload)
        elif dataclasses.is_dataclass(payload):
            raise InvalidPayload(
                f"payload is a {type(payload).__name__}, not a {self.payload_type.__name__}"
            )
        # A round trip through the checker catches wrongly typed dataclass fields too.
        return dump_payload(self.load(payload))


def members_fingerprint(ids: Iterable[object]) -> str:
    """Fingerprint a group by its members' ids alone, ignoring their volatile details."""
    return hashlib.sha256(",".join(sorted(str(i) for i in ids)).encode()).hexdigest()[:32]


class KindRegistry:
    """Kinds by name."""

    def __init__(self) -> None:
        self._kinds: dict[str, ReviewKind[Any]] = {}

    def register(self, kind: ReviewKind[Any]) -> None:
        """Add a kind; names are unique."""
        name = getattr(kind, "name", None)
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"review kind name {name!r} must match {_NAME.pattern}")
        if name in self._kinds:
            raise ValueError(f"review kind {name!r} is already registered")
        if not dataclasses.is_dataclass(getattr(kind, "payload_type", None)):
            raise ValueError(f"review kind {name!r} needs a dataclass payload_type")
        self._kinds[name] = kind

    def get(self, name: str) -> ReviewKind[Any]:
        """Return a kind or raise `UnknownKind`."""
        kind = self._kinds.get(name)
        if kind is None:
            raise UnknownKind(f"no review kind {name!r} is registered")
        return kind

    def find(self, name: str) -> ReviewKind[Any] | None:
        """Return a kind or None."""
        return self._kinds.get(name)

    def __iter__(self) -> Iterator[ReviewKind[Any]]:
        """Iterate over the registered kinds."""
        return iter(self._kinds.values())

    def names(self) -> list[str]:
        """Return the registered names, sorted."""
        return sorted(self._kinds)
