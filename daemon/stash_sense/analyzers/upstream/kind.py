"""The review kinds that apply chosen upstream fields to a local entity."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from stash_sense.analyzers.link_create import LinkCreator
from stash_sense.analyzers.upstream.payload import UpstreamChangesPayload
from stash_sense.analyzers.upstream.spec import (
    KIND,
    PERFORMER,
    SCENE,
    STUDIO,
    TAG,
    EntitySpec,
)
from stash_sense.analyzers.upstream_links import link_write
from stash_sense.config import Config
from stash_sense.review import (
    ActionRefused,
    InvalidOptions,
    InvalidPayload,
    Resuggest,
    ResuggestPolicy,
    ReviewItem,
    ReviewKind,
)
from stash_sense.review.models import dumps
from stash_sense.stash import StashClient
from stash_sense.stashbox import (
    DisabledEndpoints,
)
from stash_sense.store import Database
from stash_sense.writes import AuditEntry, AuditLog, Mutation, StashWriter, new_mutation_id

_LOGGER = logging.getLogger(__name__)


class UpstreamChangesKind(ReviewKind[UpstreamChangesPayload]):
    """Apply chosen upstream fields to a local entity (its update mutation, audited)."""

    spec: ClassVar[EntitySpec] = PERFORMER
    name = KIND
    payload_type = UpstreamChangesPayload
    scene_scoped = False
    # Decisions hold until upstream changes again (the fingerprint covers upstream values).
    resuggest_after_resolve = ResuggestPolicy(
        after_accept=Resuggest.IF_CHANGED, after_reject=Resuggest.IF_CHANGED
    )

    def __init__(
        self,
        stash: StashClient,
        config: Config,
        audit: AuditLog | None = None,
        db: Database | None = None,
    ) -> None:
        self._stash = stash
        self._writer = StashWriter(stash, audit)
        self._disabled = DisabledEndpoints(config.stashbox.disabled_endpoints)
        self._creator = LinkCreator(stash, self._writer, config.stashbox)

    def check(self, payload: UpstreamChangesPayload) -> None:
        """Refuse an item without changes or with unknown fields."""
        if not payload.changes:
            raise InvalidPayload("an upstream change item needs at least one change")
        unknown = [c.field for c in payload.changes if c.field not in self.spec.fields]
        if unknown:
            raise InvalidPayload(f"unknown {self.spec.entity} fields: {', '.join(unknown)}")

    def fingerprint(self, payload: dict[str, Any]) -> str:
        """Hash the upstream values proposed: local values and history do not matter."""
        # Field names are unique per item, so sorting never compares the values.
        changes = sorted(
            ((c["field"], c["upstream"]) for c in payload.get("changes") or ()),
            key=lambda change: str(change[0]),
        )
        key = dumps([payload.get("endpoint"), payload.get("stash_box_id"), changes])
        return hashlib.sha256(key.encode()).hexdigest()[:32]

    async def accept(self, item: ReviewItem, options: dict[str, Any]) -> dict[str, Any]:
        """Write the chosen fields (`options.fields`, default all); unchanged ones are skipped.

        Link fields link what upstream added where a local entity was found for it (or
        create it from stash-box first with `options.create_missing`), and unlink what
        upstream removed unless `options.remove_links` is false.
        """
        payload = self.load(item.payload)
        offered = {c.field: c for c in payload.changes}
        fields = options.get("fields", list(offered))
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise InvalidOptions("fields must be a list of field names")
        if not set(fields) <= set(offered):
            extra = ", ".join(sorted(set(fields) - set(offered)))
            raise InvalidOptions(f"fields not offered by this item: {extra}")
        remove = options.get("remove_links", True)
        create = options.get("create_missing", False)
        if not isinstance(remove, bool) or not isinstance(create, bool):
            raise InvalidOptions("remove_links and create_missing must be true or false")
        if self._disabled.disabled(payload.endpoint):
            raise ActionRefused(
                f"stash-box {payload.endpoint_name} is disabled in the configuration"
            )
        spec = self.spec
        data = await self._stash.execute(spec.local_one, {"id": payload.local_id})
        current = data.get(f"find{spec.title}")
        if not current:
            raise ActionRefused(f"{spec.entity} {payload.local_id} no longer exists in Stash")
        upstream = {c.field: c.upstream for c in payload.changes}
        plain = [f for f in fields if f not in spec.links]
        wanted = spec.update_input(current, upstream, plain)
        # Only what differs is sent: a second accept (after a crash) writes nothing.
        update = {k: v for k, v in wanted.items() if not _same(current.get(k), v)}
        chosen = {name: spec.links[name] for name in fields if name in spec.links}
        added = {name: offered[name].added for name in chosen}
        if create:
            wanted_links = {name: (link.entity, added[name]) for name, link in chosen.items()}
            added = await self._creator.ensure_all(payload.endpoint, wanted_links)
        unmatched: list[dict[str, Any]] = []
        for name, link in chosen.items():
            written, missing = link_write(
                link, current, added[name], offered[name].removed, remove=remove
            )
            update.update(written)
            unmatched += [{"field": name, **ref} for ref in missing]
        result: dict[str, Any] = {"applied": fields, "written": sorted(update)}
        if unmatched:
            # Upstream links to entities this library does not have: shown, not created.
            result["unmatched"] = unmatched
        if not update:
            return result
        result.update(await self._write(item.id, payload, fields, current, update))
        _LOGGER.info(
            "%s %s: applied upstream %s from %s",
            spec.title,
            payload.local_id,
            ", ".join(fields),
            payload.endpoint_name,
        )
        return result

    async def _write(
        self,
        item_id: int,
        payload: UpstreamChangesPayload,
        fields: Sequence[str],
        current: Mapping[str, Any],
        update: dict[str, Any],
    ) -> dict[str, Any]:
        """Send the update, recorded in the audit log with what it replaced and sent."""
        spec = self.spec
        mutation_id = new_mutation_id()
        scene = spec.entity == "scene"
        before = [str(p["id"]) for p in current.get("performers") or ()] if scene else []
        sent = {"id": payload.local_id, **update}
        if scene:
            # Marks the Scene.Update.Post hook this write fires as the daemon's own.
            sent["clientMutationId"] = mutation_id
        entry = await self._writer.send(
            Mutation(spec.update_op, {"input": sent}),
            scene_id=int(payload.local_id) if scene else 0,
            action=f"upstream_{spec.entity}",
            reason=f"review:{item_id}: upstream {', '.join(fields)} from {payload.endpoint_name}",
            mutation_id=mutation_id,
            before_ids=before,
            performer_ids=_added(update.get("performer_ids"), before),
            tag_ids=_added(
                update.get("tag_ids"), [str(t["id"]) for t in current.get("tags") or ()]
            ),
            target=f"{spec.entity}:{payload.local_id}",
            details={
                "entity_type": payload.entity_type,
                "local_id": payload.local_id,
                "endpoint": payload.endpoint,
                "stash_box_id": payload.stash_box_id,
                "review_item_id": item_id,
                "fields": list(fields),
                "before": {k: _before(spec, current, k) for k in update},
                "sent": dict(update),
            },
            once=True,
        )
        return {"write_id": entry, "audit_id": entry}


def _added(ids: Any, before: Sequence[str]) -> list[str]:
    """Return the ids in a written id list that were not there before."""
    return [i for i in ids or () if i not in before]


def _before(spec: EntitySpec, current: Mapping[str, Any], key: str) -> Any:
    """Return what an update key replaces, in the form it is sent (ids for links)."""
    for link in spec.links.values():
        if link.input_key == key:
            value = current.get(link.current_key)
            if link.many:
                return [str(v["id"]) for v in value or ()]
            return str(value["id"]) if isinstance(value, Mapping) else None
    return current.get(key)


def _same(a: Any, b: Any) -> bool:
    """Compare a Stash value with one to send (None and empty are the same)."""
    if a in (None, "", []) and b in (None, "", []):
        return True
    return bool(a == b)


async def check_interrupted(spec: EntitySpec, stash: StashClient, entry: AuditEntry) -> str | None:
    """Tell whether an interrupted field update landed: None if Stash holds what was sent."""
    details = entry.details or {}
    sent, local_id = details.get("sent"), details.get("local_id")
    if not isinstance(sent, dict) or local_id is None:
        return "interrupted; what was sent is not recorded"
    data = await stash.execute(spec.local_one, {"id": str(local_id)})
    current = data.get(f"find{spec.title}")
    if not current:
        return f"interrupted; {spec.entity} {local_id} no longer exists in Stash"
    if all(_landed(_before(spec, current, key), value) for key, value in sent.items()):
        return None
    return "interrupted before Stash took it; accept the item again to apply it"


def _landed(now: Any, sent: Any) -> bool:
    """Compare a Stash value with one sent; id lists compare in any order."""
    if isinstance(now, list) and isinstance(sent, list):
        return sorted(map(str, now)) == sorted(map(str, sent))
    return _same(now, sent)


class UpstreamPerformerChangesKind(UpstreamChangesKind):
    """Apply chosen upstream fields to a local performer (performerUpdate, recorded)."""

    spec = PERFORMER
    name = PERFORMER.kind


class UpstreamStudioChangesKind(UpstreamChangesKind):
    """Apply chosen upstream fields to a local studio (studioUpdate, recorded)."""

    spec = STUDIO
    name = STUDIO.kind


class UpstreamTagChangesKind(UpstreamChangesKind):
    """Apply chosen upstream fields to a local tag (tagUpdate, recorded)."""

    spec = TAG
    name = TAG.kind


class UpstreamSceneChangesKind(UpstreamChangesKind):
    """Apply chosen upstream fields and links to a local scene (sceneUpdate, audited)."""

    spec = SCENE
    name = SCENE.kind
    scene_scoped = True
