"""Decide, per identified person, whether to apply, suggest or drop; learn from edits."""

from __future__ import annotations

import logging

from stash_sense.config import TaggingConfig
from stash_sense.faces.result import PersonResult, SceneResult
from stash_sense.review import ReviewQueue
from stash_sense.stash.client import StashClient
from stash_sense.stash.models import Scene
from stash_sense.stashbox import DisabledEndpoints
from stash_sense.tagging.resolver import PerformerResolver
from stash_sense.tagging.suggestion import KIND, PerformerSuggestion, payload_json
from stash_sense.writes import AuditEntry, AuditLog, StashWriter

_LOGGER = logging.getLogger(__name__)


class TaggingEngine:
    """Apply confident matches (auto mode), queue the rest, never re-add a rejection."""

    def __init__(
        self,
        config: TaggingConfig,
        stash: StashClient,
        resolver: PerformerResolver,
        *,
        applier: StashWriter,
        audit: AuditLog,
        review: ReviewQueue,
        disabled: DisabledEndpoints | None = None,
    ) -> None:
        self._config = config
        self._stash = stash
        self._resolver = resolver
        self._applier = applier
        self._audit = audit
        self._review = review
        self._disabled = disabled or DisabledEndpoints(())

    @property
    def writes(self) -> bool:
        """Tell whether this mode may write to Stash at all."""
        return self._config.mode != "dry-run"

    async def on_identified(
        self, scene: Scene, identification_id: int, result: SceneResult
    ) -> None:
        """Act on a finished identification of a scene."""
        scene_id = int(scene.id)
        present = {p.id for p in scene.performers}
        suggested: set[str] = set()
        applied = False
        for person in result.identified:
            outcome = await self._person(scene_id, present, person, identification_id)
            if outcome == "suggested":
                suggested.add(person.best.universal_id if person.best else "")
            applied = applied or outcome in ("applied", "present")
        # Suggestions this identification no longer makes are superseded, not left behind.
        await self._review.supersede(KIND, scene_id, suggested)
        await self._markers(scene_id, result, applied=applied, pending=bool(suggested))

    async def _person(
        self, scene_id: int, present: set[str], person: PersonResult, identification_id: int
    ) -> str:
        """Apply, suggest or drop one person's best match; say which."""
        best = person.best
        assert best is not None
        config = self._config
        if self._disabled.domain_disabled(best.endpoint):
            return "disabled"
        if await self._review.is_rejected(KIND, scene_id, best.universal_id):
            return "rejected"
        if best.confidence < config.review_min_confidence:
            return "dropped"
        resolved = await self._resolver.resolve(best.universal_id)
        if resolved.performer_id is not None and resolved.performer_id in present:
            return "present"
        confident = (
            best.confidence >= config.auto_min_confidence and best.frames >= config.auto_min_frames
        )
        if config.mode == "auto" and confident and resolved.performer_id is not None:
            await self._applier.add_performers(
                scene_id, [(resolved.performer_id, best.universal_id)], reason="auto"
            )
            present.add(resolved.performer_id)
            return "applied"
        payload = PerformerSuggestion(
            universal_id=best.universal_id,
            name=best.name,
            endpoint=best.endpoint,
            stash_id=best.stash_id,
            performer_id=resolved.performer_id,
            confidence=best.confidence,
            frames=best.frames,
            identification_id=identification_id,
            crop_ids=[e.crop_id for e in person.evidence if e.crop_id is not None],
            alternatives=[
                {"universal_id": a.universal_id, "name": a.name, "confidence": a.confidence}
                for a in person.alternatives
            ],
        )
        await self._review.upsert(
            KIND,
            scene_id=scene_id,
            subject=best.universal_id,
            payload=payload_json(payload),
            confidence=best.confidence,
            source=f"identification:{identification_id}",
        )
        return "suggested"

    async def _markers(
        self, scene_id: int, result: SceneResult, *, applied: bool, pending: bool
    ) -> None:
        """Write the optional marker tags."""
        config = self._config
        if not (config.marker_tags and self.writes):
            return
        names = []
        if applied:
            names.append(config.tag_identified)
        if pending:
            names.append(config.tag_needs_review)
        if result.faces_kept == 0:
            names.append(config.tag_no_faces)
        if names:
            tags = [await self._applier.tag_named(name) for name in names]
            await self._applier.add_tags(scene_id, [t.id for t in tags], reason="marker")

    async def on_performers_edited(
        self, scene_id: int, kind: str, performer_ids: list[str]
    ) -> None:
        """Record a person removing a performer we added: never add that one again."""
        if kind not in ("set", "remove"):
            return
        for entry in await self._audit.for_scene(scene_id):
            if entry.action != "add_performers" or entry.undone_at is not None:
                continue
            for local_id, universal_id in zip(
                entry.performer_ids, entry.universal_ids, strict=False
            ):
                removed = (kind == "remove" and local_id in performer_ids) or (
                    kind == "set" and local_id not in performer_ids
                )
                if removed and universal_id:
                    _LOGGER.info(
                        "Scene %d: %s was removed by a person; it will not be added again",
                        scene_id,
                        universal_id,
                    )
                    await self._review.record_rejection(
                        KIND,
                        scene_id,
                        universal_id,
                        decided_by="user-edit",
                        payload={"performer_id": local_id, "audit_id": entry.id},
                    )

    async def undo(self, entry_id: int) -> AuditEntry:
        """Undo one write; the performers it added count as rejected from now on."""
        entry = await self._applier.undo(entry_id)
        for universal_id, local_id in zip(entry.universal_ids, entry.performer_ids, strict=False):
            if not universal_id:
                continue  # a person's own pick ("someone else"): nothing was suggested
            await self._review.record_rejection(
                KIND,
                entry.scene_id,
                universal_id,
                decided_by="user",
                payload={"performer_id": local_id, "audit_id": entry.id},
            )
        return entry

    async def on_scene_deleted(self, scene_id: int) -> None:
        """Retire the pending items of a deleted scene."""
        await self._review.expire_scene(scene_id)

    def on_performer_changed(self) -> None:
        """Forget cached performer lookups (a performer changed in Stash)."""
        self._resolver.forget()
