"""Write performers and marker tags to scenes: ADD only, audited, undoable."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from stash_sense.events.mutations import new_mutation_id
from stash_sense.stash.client import StashClient
from stash_sense.stash.errors import StashError
from stash_sense.tagging.audit import AuditEntry, AuditLog

_LOGGER = logging.getLogger(__name__)


class UndoError(Exception):
    """The entry cannot be undone (unknown, already undone, or never applied)."""


class Applier:
    """Add performers or tags to a scene in ADD mode, never removing what a person set."""

    def __init__(self, stash: StashClient, audit: AuditLog) -> None:
        self._stash = stash
        self._audit = audit

    async def add_performers(
        self, scene_id: int, additions: Sequence[tuple[str, str]], *, reason: str
    ) -> AuditEntry | None:
        """Add (local performer id, universal id) pairs; None when all are already there."""
        scene = await self._stash.find_scene(scene_id)
        if scene is None:
            raise StashError(f"scene {scene_id} no longer exists in Stash")
        before = [p.id for p in scene.performers]
        todo = [(pid, uid) for pid, uid in dict(additions).items() if pid not in before]
        if not todo:
            return None  # re-applying the same thing is a no-op
        mutation = new_mutation_id()
        entry_id = await self._audit.begin(
            scene_id,
            "add_performers",
            reason=reason,
            mutation_id=mutation,
            before_ids=before,
            performer_ids=[p for p, _ in todo],
            universal_ids=[u for _, u in todo],
        )
        try:
            await self._stash.bulk_update_scenes(
                [scene_id],
                performer_ids=[p for p, _ in todo],
                mode="ADD",
                client_mutation_id=mutation,
            )
        except StashError as err:
            await self._audit.finish(entry_id, error=str(err))
            raise
        await self._audit.finish(entry_id)
        _LOGGER.info("Scene %d: added performers %s (%s)", scene_id, [p for p, _ in todo], reason)
        return await self._audit.get(entry_id)

    async def add_tags(self, scene_id: int, tag_ids: Sequence[str], *, reason: str) -> None:
        """Add marker tags to a scene (audited like performers)."""
        scene = await self._stash.find_scene(scene_id)
        if scene is None:
            return
        todo = [t for t in tag_ids if t not in {tag.id for tag in scene.tags}]
        if not todo:
            return
        mutation = new_mutation_id()
        entry_id = await self._audit.begin(
            scene_id,
            "add_tags",
            reason=reason,
            mutation_id=mutation,
            before_ids=[p.id for p in scene.performers],
            tag_ids=todo,
        )
        try:
            await self._stash.bulk_update_scenes(
                [scene_id], tag_ids=todo, mode="ADD", client_mutation_id=mutation
            )
        except StashError as err:
            await self._audit.finish(entry_id, error=str(err))
            raise
        await self._audit.finish(entry_id)

    async def undo(self, entry_id: int) -> AuditEntry:
        """Remove what one write added, restoring the scene's performers (or tags)."""
        entry = await self._audit.get(entry_id)
        if entry is None:
            raise UndoError(f"no audit entry {entry_id}")
        if entry.action not in ("add_performers", "add_tags"):
            # Merges and file deletions cannot be reversed by removing ids again.
            raise UndoError(f"audit entry {entry_id} ({entry.action}) cannot be undone")
        if entry.undone_at is not None:
            return entry  # undoing twice changes nothing
        if entry.status not in ("applied", "unknown"):
            raise UndoError(f"audit entry {entry_id} was never applied ({entry.status})")
        mutation = new_mutation_id()
        await self._stash.bulk_update_scenes(
            [entry.scene_id],
            performer_ids=entry.performer_ids or None,
            tag_ids=entry.tag_ids or None,
            mode="REMOVE",
            client_mutation_id=mutation,
        )
        await self._audit.mark_undone(entry_id, mutation)
        _LOGGER.info("Scene %d: undid audit entry %d", entry.scene_id, entry_id)
        undone = await self._audit.get(entry_id)
        assert undone is not None
        return undone
