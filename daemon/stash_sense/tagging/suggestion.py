"""The review kind "performer_suggestion": a performer proposed for a scene."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from stash_sense.config import StashBoxConfig
from stash_sense.review.errors import ActionRefused
from stash_sense.review.kinds import ReviewKind
from stash_sense.review.models import ReviewItem
from stash_sense.stash.client import StashClient
from stash_sense.stashbox import StashBoxClient, StashBoxPool
from stash_sense.tagging.resolver import PerformerResolver
from stash_sense.writes import StashWriter

KIND = "performer_suggestion"


class SuggestionError(ActionRefused):
    """Accepting the suggestion cannot be done (dry-run, unknown stash-box, ...)."""


@dataclass(frozen=True)
class PerformerSuggestion:
    """Payload of a performer suggestion: who, how sure, and the evidence."""

    universal_id: str
    name: str
    endpoint: str  # face-database domain, e.g. "stashdb.org"
    stash_id: str
    performer_id: str | None  # local performer; None: accepting creates it from stash-box
    confidence: float
    frames: int
    identification_id: int
    crop_ids: list[int] = field(default_factory=list)
    alternatives: list[dict[str, Any]] = field(default_factory=list)


class PerformerCreator:
    """Create a local performer from its stash-box entry, exactly once."""

    def __init__(
        self,
        stash: StashClient,
        writer: StashWriter,
        resolver: PerformerResolver,
        config: StashBoxConfig,
    ) -> None:
        self._stash = stash
        self._writer = writer
        self._resolver = resolver
        self._config = config
        self._pool: StashBoxPool | None = None
        self._locks: dict[str, asyncio.Lock] = {}

    async def _client(self, endpoint: str) -> StashBoxClient | None:
        """Return the stash-box client of an endpoint, (re)reading Stash's list if needed."""
        if self._pool is None or self._pool.get(endpoint) is None:
            # Built lazily: Stash may be down at start-up, and endpoints change.
            if self._pool is not None:
                await self._pool.close()
            self._pool = StashBoxPool.configured(await self._stash.stash_boxes(), self._config)
        return self._pool.get(endpoint)

    async def close(self) -> None:
        """Close the stash-box clients."""
        if self._pool is not None:
            await self._pool.close()

    async def ensure(self, universal_id: str) -> tuple[str, bool]:
        """Return the local performer id for a universal id, creating it; and whether it was."""
        lock = self._locks.setdefault(universal_id, asyncio.Lock())
        async with lock:
            # Look again right before creating: never a duplicate of an existing performer.
            resolved = await self._resolver.resolve(universal_id, fresh=True)
            if resolved.performer_id is not None:
                return resolved.performer_id, False
            domain = universal_id.partition(":")[0]
            client = await self._client(resolved.endpoint)
            if client is None:
                raise SuggestionError(
                    f"no stash-box for {domain} is configured (and enabled) in Stash; "
                    "cannot create the performer"
                )
            found = await client.find_performer(resolved.stash_id)
            if found is None or (found.deleted and found.merged_from is None):
                raise SuggestionError(f"{universal_id} was not found on {domain}")
            created = await self._writer.new_performer(
                found.name,
                stash_ids=[(resolved.endpoint, found.id)],
                disambiguation=found.disambiguation,
                aliases=found.aliases,
                country=found.country,
                image=found.images[0].url if found.images else None,
            )
            self._resolver.forget(universal_id)
            return created.id, True


class SuggestionActions:
    """Accept a performer suggestion: create the performer if needed, then add it."""

    def __init__(self, applier: StashWriter, creator: PerformerCreator, *, dry_run: bool) -> None:
        self._applier = applier
        self._creator = creator
        self._dry_run = dry_run

    async def accept(
        self, scene_id: int, payload: PerformerSuggestion, item_id: int
    ) -> dict[str, Any]:
        """Apply an accepted suggestion; return what was done."""
        if self._dry_run:
            raise SuggestionError("dry-run mode: nothing is written to Stash")
        performer_id, created = await self._creator.ensure(payload.universal_id)
        entry = await self._applier.add_performers(
            scene_id, [(performer_id, payload.universal_id)], reason=f"review:{item_id}"
        )
        return {
            "performer_id": performer_id,
            "created_performer": created,
            "audit_id": entry.id if entry else None,
        }


def payload_json(payload: PerformerSuggestion) -> dict[str, Any]:
    """Turn a payload into JSON for the review store."""
    return asdict(payload)


class PerformerSuggestionKind(ReviewKind[PerformerSuggestion]):
    """Review kind: a performer proposed for a scene by an identification."""

    name = KIND
    payload_type = PerformerSuggestion

    def __init__(
        self,
        actions: SuggestionActions,
        reference_image: Callable[[str | None, str | None], str | None],
    ) -> None:
        self._actions = actions
        # (universal id, local performer id) -> the performer's reference image URL.
        self._reference_image = reference_image

    async def accept(self, item: ReviewItem, options: dict[str, Any]) -> dict[str, Any]:
        """Create the performer if needed and add it to the scene."""
        assert item.scene_id is not None  # scene-scoped kind
        return await self._actions.accept(item.scene_id, self.load(item.payload), item.id)

    async def describe(self, item: ReviewItem) -> dict[str, Any]:
        """Add the evidence crops' URLs and the performer's reference image."""
        payload = item.payload or {}
        crop_ids = payload.get("crop_ids") or []
        performer_id = payload.get("performer_id")
        universal_id = payload.get("universal_id")
        return {
            "crop_urls": [f"/api/v1/crops/{c}" for c in crop_ids],
            "reference_image_url": self._reference_image(
                str(universal_id) if universal_id else None,
                str(performer_id) if performer_id else None,
            ),
        }

    def fingerprint(self, payload: dict[str, Any]) -> str:
        """Compare suggestions by who is proposed, not by the latest confidence."""
        return str(payload.get("universal_id"))
