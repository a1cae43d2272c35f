"""Send every write to Stash: marked as ours, recorded before and after, undoable."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stash_sense.stash.client import StashClient
from stash_sense.stash.errors import StashError
from stash_sense.stash.models import PerformerRef, TagRef
from stash_sense.writes.audit import AuditEntry, AuditLog
from stash_sense.writes.ids import new_mutation_id

_LOGGER = logging.getLogger(__name__)
# Scene writes that add ids in ADD mode: safe to send again, undone by REMOVE.
ADD_PERFORMERS = "add_performers"
ADD_TAGS = "add_tags"
ADDITIONS = (ADD_PERFORMERS, ADD_TAGS)


class UndoError(Exception):
    """The entry cannot be undone (unknown, already undone, or never applied)."""


@dataclass(frozen=True)
class Mutation:
    """One GraphQL mutation of the Stash operations: its name and variables."""

    operation: str
    variables: Mapping[str, Any]


def write_key(reason: str, mutations: Sequence[Mutation]) -> str:
    """Return the key of a write: the same reason and payload make the same key."""
    payload = [(m.operation, _unmarked(m.variables)) for m in mutations]
    text = json.dumps([reason, payload], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _unmarked(value: Any) -> Any:
    """Drop our clientMutationId (fresh per attempt) from a payload."""
    if isinstance(value, Mapping):
        return {k: _unmarked(v) for k, v in value.items() if k != "clientMutationId"}
    if isinstance(value, list | tuple):
        return [_unmarked(v) for v in value]
    return value


class StashWriter:
    """The one sender of mutations to Stash; records them when given an audit log."""

    def __init__(self, stash: StashClient, audit: AuditLog | None) -> None:
        self._stash = stash
        self._audit = audit

    async def send(
        self,
        *mutations: Mutation,
        scene_id: int,
        action: str,
        reason: str,
        mutation_id: str | None = None,
        before_ids: Sequence[str] = (),
        performer_ids: Sequence[str] = (),
        universal_ids: Sequence[str] = (),
        tag_ids: Sequence[str] = (),
        target: str | None = None,
        details: Mapping[str, Any] | None = None,
        once: bool = False,
    ) -> int | None:
        """Record a write, send its mutations in order, record the outcome; return the entry.

        With `once`, a write already applied with the same reason and payload is not
        sent again (a repeated review accept after a crash); its entry is returned.
        """
        key = write_key(reason, mutations) if once else None
        if self._audit is None:
            await self._send_all(mutations)
            return None
        if key is not None and (done := await self._audit.applied_with_key(key)) is not None:
            _LOGGER.info("Write %d (%s) was already applied; not sent again", done.id, action)
            return done.id
        entry = await self._audit.begin(
            scene_id,
            action,
            reason=reason,
            mutation_id=mutation_id or new_mutation_id(),
            before_ids=before_ids,
            performer_ids=performer_ids,
            universal_ids=universal_ids,
            tag_ids=tag_ids,
            target=target,
            details=details,
            write_key=key,
        )
        try:
            await self._send_all(mutations)
        except Exception as err:
            await self._audit.finish(entry, error=str(err) or type(err).__name__)
            raise
        await self._audit.finish(entry)
        return entry

    async def _send_all(self, mutations: Iterable[Mutation]) -> None:
        """Send mutations one after the other."""
        for mutation in mutations:
            await self._stash.execute(mutation.operation, dict(mutation.variables))

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
        entry_id = await self._add(
            scene_id,
            ADD_PERFORMERS,
            reason=reason,
            before_ids=before,
            performer_ids=[p for p, _ in todo],
            universal_ids=[u for _, u in todo],
        )
        _LOGGER.info("Scene %d: added performers %s (%s)", scene_id, [p for p, _ in todo], reason)
        assert self._audit is not None
        return await self._audit.get(entry_id)

    async def add_tags(self, scene_id: int, tag_ids: Sequence[str], *, reason: str) -> None:
        """Add tags to a scene (audited like performers); a gone scene is skipped."""
        scene = await self._stash.find_scene(scene_id)
        if scene is None:
            return
        todo = [t for t in tag_ids if t not in {tag.id for tag in scene.tags}]
        if todo:
            await self._add(
                scene_id,
                ADD_TAGS,
                reason=reason,
                before_ids=[p.id for p in scene.performers],
                tag_ids=todo,
            )

    async def _add(
        self,
        scene_id: int,
        action: str,
        *,
        reason: str,
        before_ids: Sequence[str],
        performer_ids: Sequence[str] = (),
        universal_ids: Sequence[str] = (),
        tag_ids: Sequence[str] = (),
    ) -> int:
        """Send one audited ADD-mode scene update; return its entry id."""
        assert self._audit is not None, "scene additions are always audited"
        mutation = new_mutation_id()
        entry_id = await self.send(
            bulk_update(scene_id, performer_ids, tag_ids, mode="ADD", mutation_id=mutation),
            scene_id=scene_id,
            action=action,
            reason=reason,
            mutation_id=mutation,
            before_ids=before_ids,
            performer_ids=performer_ids,
            universal_ids=universal_ids,
            tag_ids=tag_ids,
        )
        assert entry_id is not None
        return entry_id

    async def resend(self, entry: AuditEntry) -> None:
        """Send an interrupted ADD-mode write again (ADD merges: a repeat is harmless)."""
        if entry.action not in ADDITIONS:
            raise ValueError(f"audit entry {entry.id} ({entry.action}) is not an addition")
        await self._stash.execute(
            "BulkSceneUpdate",
            bulk_update(
                entry.scene_id,
                entry.performer_ids,
                entry.tag_ids,
                mode="ADD",
                mutation_id=entry.mutation_id or new_mutation_id(),
            ).variables,
        )

    async def undo(self, entry_id: int) -> AuditEntry:
        """Remove what one write added, restoring the scene's performers (or tags)."""
        audit = self._audit
        assert audit is not None, "undo needs the audit log"
        entry = await audit.get(entry_id)
        if entry is None:
            raise UndoError(f"no audit entry {entry_id}")
        if entry.action not in ADDITIONS:
            # Merges and file deletions cannot be reversed by removing ids again.
            raise UndoError(f"audit entry {entry_id} ({entry.action}) cannot be undone")
        if entry.undone_at is not None:
            return entry  # undoing twice changes nothing
        if entry.status not in ("applied", "unknown"):
            raise UndoError(f"audit entry {entry_id} was never applied ({entry.status})")
        mutation = new_mutation_id()
        await self._send_all(
            [
                bulk_update(
                    entry.scene_id,
                    entry.performer_ids,
                    entry.tag_ids,
                    mode="REMOVE",
                    mutation_id=mutation,
                )
            ]
        )
        await audit.mark_undone(entry_id, mutation)
        _LOGGER.info("Scene %d: undid audit entry %d", entry.scene_id, entry_id)
        undone = await audit.get(entry_id)
        assert undone is not None
        return undone

    # Creations are idempotent by their callers: they look the entity up under a lock
    # right before creating it. They carry no clientMutationId (their inputs have none).

    async def new_performer(
        self,
        name: str,
        *,
        stash_ids: Iterable[tuple[str, str]],
        disambiguation: str | None = None,
        aliases: Iterable[str] = (),
        country: str | None = None,
        image: str | None = None,
    ) -> PerformerRef:
        """Create a performer linked to stash-box ids (endpoint URL, id)."""
        return await self._stash.create_performer(
            name,
            stash_ids=stash_ids,
            disambiguation=disambiguation,
            aliases=aliases,
            country=country,
            image=image,
        )

    async def tag_named(self, name: str, *, description: str | None = None) -> TagRef:
        """Return the tag named `name`, creating it if missing."""
        return await self._stash.ensure_tag(name, description=description)

    async def create(self, entity: str, values: Mapping[str, Any]) -> str:
        """Create a studio or tag (`StudioCreate`, `TagCreate`); return its id."""
        title = entity.capitalize()
        result = await self._stash.execute(f"{title}Create", {"input": dict(values)})
        return str(result[f"{entity}Create"]["id"])


def bulk_update(
    scene_id: int,
    performer_ids: Sequence[str],
    tag_ids: Sequence[str],
    *,
    mode: str,
    mutation_id: str,
) -> Mutation:
    """Return the `BulkSceneUpdate` of one scene's performers and tags in `mode`."""
    update: dict[str, Any] = {"ids": [str(scene_id)], "clientMutationId": mutation_id}
    if performer_ids:
        update["performer_ids"] = {"ids": [str(i) for i in performer_ids], "mode": mode}
    if tag_ids:
        update["tag_ids"] = {"ids": [str(i) for i in tag_ids], "mode": mode}
    return Mutation("BulkSceneUpdate", {"input": update})
