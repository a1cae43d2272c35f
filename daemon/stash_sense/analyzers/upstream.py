"""Upstream changes: stash-box edits to linked performers, studios, tags and scenes (3-way diff)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from abc import abstractmethod
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Self

from stash_sense.analyzers.base import Analyzer, AnalyzerRun, AnalyzerServices
from stash_sense.analyzers.link_create import LinkCreator
from stash_sense.analyzers.link_index import LinkIndex
from stash_sense.analyzers.upstream_fields import (
    PERFORMER_FIELDS,
    SCENE_FIELDS,
    SCENE_LINKS,
    STUDIO_FIELDS,
    STUDIO_LINKS,
    TAG_FIELDS,
    Change,
    FieldSpec,
    diff_fields,
    local_performer,
    local_scene,
    local_studio,
    local_tag,
    performer_update_input,
    scene_update_input,
    studio_update_input,
    tag_update_input,
    upstream_performer,
    upstream_scene,
    upstream_studio,
    upstream_tag,
    values_equal,
)
from stash_sense.analyzers.upstream_links import LinkField, link_write
from stash_sense.config import Config
from stash_sense.events.mutations import new_mutation_id
from stash_sense.review import (
    ActionRefused,
    InvalidOptions,
    InvalidPayload,
    ItemFilter,
    Resuggest,
    ResuggestPolicy,
    ReviewItem,
    ReviewKind,
    ReviewState,
)
from stash_sense.review.models import dumps
from stash_sense.stash import StashClient
from stash_sense.stash.errors import StashError
from stash_sense.stash.models import StashBox
from stash_sense.stashbox import (
    StashBoxClient,
    StashBoxPool,
    StashBoxQueryError,
    domain_of,
    normalize_endpoint,
)
from stash_sense.store import Database
from stash_sense.tagging.audit import AuditLog

_LOGGER = logging.getLogger(__name__)
KIND = "upstream_performer_changes"
ENTITY = "performer"
_LOCAL_PAGE = 500
_UPSTREAM_PAGE = 100
_LIST_LIMIT = 100_000


Normaliser = Callable[[Mapping[str, Any]], dict[str, Any]]
LocalNormaliser = Callable[[Mapping[str, Any], str], dict[str, Any]]
UpdateBuilder = Callable[[Mapping[str, Any], Mapping[str, Any], Iterable[str]], dict[str, Any]]


@dataclass(frozen=True)
class EntitySpec:
    """What differs per entity type: fields, normalisers, write-back and the operations."""

    entity: str
    kind: str
    fields: Mapping[str, FieldSpec]
    local: LocalNormaliser  # (raw Stash entity, endpoint compared)
    upstream: Normaliser
    update_input: UpdateBuilder
    links: Mapping[str, LinkField] = dataclasses.field(default_factory=dict)

    # Operation files follow one naming pattern per entity (UpstreamLocalTag, ...).
    @property
    def local_one(self) -> str:
        """Return the Stash operation reading one local entity."""
        return f"UpstreamLocal{self.title}"

    @property
    def local_many(self) -> str:
        """Return the Stash operation listing linked local entities."""
        return f"UpstreamLocal{self.title}s"

    @property
    def update_op(self) -> str:
        """Return the Stash operation writing accepted fields."""
        return f"Upstream{self.title}Update"

    @property
    def upstream_one(self) -> str:
        """Return the stash-box operation reading one upstream entity."""
        return f"Upstream{self.title}"

    @property
    def upstream_updated(self) -> str:
        """Return the stash-box operation listing recently updated entities."""
        return f"Upstream{self.title}sUpdated"

    @property
    def plural(self) -> str:
        """Return the plural used in GraphQL names ("performers")."""
        return f"{self.entity}s"

    @property
    def title(self) -> str:
        """Return the entity name capitalised ("Performer")."""
        return self.entity.capitalize()


PERFORMER = EntitySpec(
    entity="performer",
    kind=KIND,
    fields=PERFORMER_FIELDS,
    local=local_performer,
    upstream=upstream_performer,
    update_input=performer_update_input,
)
STUDIO = EntitySpec(
    entity="studio",
    kind="upstream_studio_changes",
    fields=STUDIO_FIELDS,
    local=local_studio,
    upstream=upstream_studio,
    update_input=studio_update_input,
    links=STUDIO_LINKS,
)
TAG = EntitySpec(
    entity="tag",
    kind="upstream_tag_changes",
    fields=TAG_FIELDS,
    local=local_tag,
    upstream=upstream_tag,
    update_input=tag_update_input,
)
SCENE = EntitySpec(
    entity="scene",
    kind="upstream_scene_changes",
    fields=SCENE_FIELDS,
    local=local_scene,
    upstream=upstream_scene,
    update_input=scene_update_input,
    links=SCENE_LINKS,
)


@dataclass(frozen=True)
class FieldChange:
    """One changed field: what local has, what upstream has now, what upstream had before.

    Link fields (a studio, performers, tags, a parent studio) hold refs
    `{id, name[, as][, local_id]}` whose `id` is the stash-box id; `added` lists what
    accepting links (with the local entity found for it, `local_id` None when there is
    none) and `removed` what it unlinks.
    """

    field: str
    label: str
    merge: str
    local: Any
    upstream: Any
    previous: Any
    added: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    removed: list[dict[str, Any]] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class UpstreamChangesPayload:
    """The upstream changes of one linked entity not yet applied locally."""

    entity_type: str
    local_id: str
    local_name: str | None
    endpoint: str
    endpoint_name: str
    stash_box_id: str
    upstream_updated: str | None
    changes: list[FieldChange]


def subject(endpoint: str, stash_box_id: str) -> str:
    """Return the review subject of an entity's upstream changes."""
    return f"{endpoint}|{stash_box_id}"


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _timestamp(text: str | None) -> float:
    """Return a timestamp's POSIX seconds; unparsable ones sort first."""
    moment = _parse_time(text)
    return moment.timestamp() if moment is not None else float("-inf")


def _newer(a: str | None, b: str | None) -> bool:
    """Tell whether timestamp `a` is later than `b` (unparsable counts as newer)."""
    ta, tb = _parse_time(a), _parse_time(b)
    if ta is None or tb is None:
        return a is not None and a != b
    return ta > tb


# ---------------------------------------------------------------- snapshots


@dataclass(frozen=True)
class Snapshot:
    """Upstream as the user last saw it."""

    data: dict[str, Any]
    seen_at: float


class SnapshotStore:
    """Rows of `upstream_snapshots`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def for_endpoint(self, entity: str, endpoint: str) -> dict[str, Snapshot]:
        """Return the snapshots of one endpoint by stash-box id."""
        rows = await self._db.fetch_all(
            "SELECT stash_box_id, data, seen_at FROM upstream_snapshots"
            " WHERE entity_type = ? AND endpoint = ?",
            (entity, normalize_endpoint(endpoint)),
        )
        return {r["stash_box_id"]: Snapshot(json.loads(r["data"]), r["seen_at"]) for r in rows}

    async def put(
        self,
        entity: str,
        *,
        endpoint: str,
        stash_box_id: str,
        local_id: str,
        data: Mapping[str, Any],
        upstream_updated: str | None,
    ) -> None:
        """Store a snapshot (first sighting, or fields that came into agreement)."""
        now = time.time()
        await self._db.execute(
            "INSERT INTO upstream_snapshots (entity_type, endpoint, stash_box_id, local_id, data,"
            " upstream_updated, seen_at, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (entity_type, endpoint, stash_box_id) DO UPDATE SET"
            " local_id = excluded.local_id, data = excluded.data,"
            " upstream_updated = excluded.upstream_updated, checked_at = excluded.checked_at",
            (
                entity,
                normalize_endpoint(endpoint),
                stash_box_id,
                local_id,
                dumps(dict(data)),
                upstream_updated,
                now,
                now,
            ),
        )

    async def advance(
        self,
        entity: str,
        endpoint: str,
        stash_box_id: str,
        seen: Mapping[str, Any],
        decided_at: float,
    ) -> bool:
        """Move the fields a user decided on to the values they saw; older decisions lose."""
        key = (entity, normalize_endpoint(endpoint), stash_box_id)
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT data, seen_at FROM upstream_snapshots"
                " WHERE entity_type = ? AND endpoint = ? AND stash_box_id = ?",
                key,
            ) as cursor:
                row = await cursor.fetchone()
            if row is None or row["seen_at"] >= decided_at:
                return False
            data = {**json.loads(row["data"]), **seen}
            await conn.execute(
                "UPDATE upstream_snapshots SET data = ?, seen_at = ?"
                " WHERE entity_type = ? AND endpoint = ? AND stash_box_id = ?",
                (dumps(data), decided_at, *key),
            )
        return True


# ---------------------------------------------------------------- the review kind


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
        self._db = db
        self._audit = audit
        self._disabled = StashBoxPool((), disabled_endpoints=config.stashbox.disabled_endpoints)
        self._creator = LinkCreator(stash, config.stashbox)

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
        if self._disabled.is_disabled(payload.endpoint):
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
        """Send the update, recorded in the audit log and the upstream write log."""
        spec = self.spec
        mutation_id = new_mutation_id()
        scene = spec.entity == "scene"
        entry = None
        if self._audit is not None:
            before = [str(p["id"]) for p in current.get("performers") or ()] if scene else []
            entry = await self._audit.begin(
                int(payload.local_id) if scene else 0,
                f"upstream_{spec.entity}",
                reason=(
                    f"review:{item_id}: upstream {', '.join(fields)} from {payload.endpoint_name}"
                ),
                mutation_id=mutation_id,
                before_ids=before,
                performer_ids=_added(update.get("performer_ids"), before),
                tag_ids=_added(
                    update.get("tag_ids"), [str(t["id"]) for t in current.get("tags") or ()]
                ),
                target=f"{spec.entity}:{payload.local_id}",
            )
        write_id = await self._begin(
            payload, item_id, fields=fields, current=current, update=update, audit_id=entry
        )
        sent = {"id": payload.local_id, **update}
        if scene:
            # Marks the Scene.Update.Post hook this write fires as the daemon's own.
            sent["clientMutationId"] = mutation_id
        try:
            await self._stash.execute(spec.update_op, {"input": sent})
        except StashError as err:
            await self._finish(write_id, entry, str(err) or type(err).__name__)
            raise
        await self._finish(write_id, entry, None)
        return {"write_id": write_id, "audit_id": entry}

    async def _begin(
        self,
        payload: UpstreamChangesPayload,
        item_id: int,
        *,
        fields: Sequence[str],
        current: Mapping[str, Any],
        update: Mapping[str, Any],
        audit_id: int | None,
    ) -> int | None:
        """Record a write about to be sent (what it replaces, what it sends)."""
        if self._db is None:
            return None
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO upstream_writes (entity_type, local_id, endpoint, stash_box_id,"
                " review_item_id, fields, before, sent, created_at, audit_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    payload.entity_type,
                    payload.local_id,
                    payload.endpoint,
                    payload.stash_box_id,
                    item_id,
                    dumps(list(fields)),
                    dumps({k: _before(self.spec, current, k) for k in update}),
                    dumps(dict(update)),
                    time.time(),
                    audit_id,
                ),
            )
            return int(cursor.lastrowid or 0)

    async def _finish(self, write_id: int | None, audit_id: int | None, error: str | None) -> None:
        """Record whether the write went through."""
        if self._audit is not None and audit_id is not None:
            await self._audit.finish(audit_id, error=error)
        if self._db is None or write_id is None:
            return
        await self._db.execute(
            "UPDATE upstream_writes SET status = ?, error = ? WHERE id = ?",
            ("failed" if error else "applied", error, write_id),
        )


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


# ---------------------------------------------------------------- the analyzer


@dataclass
class _Tally:
    """What one run decided per subject."""

    differing: set[str]
    in_sync: set[str]


class UpstreamChanges(Analyzer):
    """Propose stash-box edits of linked entities that local has not taken yet."""

    kind_type: ClassVar[type[UpstreamChangesKind]] = UpstreamChangesKind
    default_schedule = "interval:24h"

    @property
    @abstractmethod
    def spec(self) -> EntitySpec:
        """Return what this analyzer's entity type needs (a subclass sets it)."""

    def __init__(
        self,
        stash: StashClient,
        config: Config,
        audit: AuditLog | None = None,
        db: Database | None = None,
    ) -> None:
        super().__init__(stash, config, audit)
        self._db = db

    @classmethod
    def create(cls, services: AnalyzerServices) -> Self:
        """Build with the audit log and the database (snapshots, write log)."""
        return cls(services.stash, services.config, services.audit, services.db)

    def review_kinds(self) -> list[ReviewKind[Any]]:
        """Return the change kind, wired to Stash, the audit log and the database."""
        return [self.kind_type(self.stash, self.config, self.audit, self._db)]

    def enabled_fields(self, config: Config) -> list[str]:
        """Return the fields compared: all but `[analyzers] upstream_ignored_fields`."""
        ignored = {
            f.split(".", 1)[1]
            for f in config.analyzers.upstream_ignored_fields
            if f.startswith(f"{self.spec.entity}.")
        }
        return [f for f in self.spec.fields if f not in ignored]

    async def run(self, run: AnalyzerRun) -> None:
        """Diff linked entities per enabled endpoint, in priority order."""
        db = self._db if self._db is not None else run.reviews.store.db
        snapshots = SnapshotStore(db)
        marks = _load_marks(run.watermark)
        marks["decisions"] = await self._apply_decisions(db, snapshots, marks.get("decisions"))
        config = run.config
        boxes = _by_priority(await run.stash.stash_boxes(), config.analyzers.endpoint_priorities)
        tally = _Tally(set(), set())
        handled: set[str] = set()
        links = LinkIndex(run.stash)
        async with StashBoxPool.configured(boxes, config.stashbox) as pool:
            for box in boxes:
                client = pool.for_endpoint(box.endpoint)
                if client is None:
                    continue  # disabled or unusable: never called, its entities fall through
                endpoints = marks.setdefault("endpoints", {})
                endpoints[box.endpoint] = await self._endpoint(
                    run,
                    box=box,
                    client=client,
                    snapshots=snapshots,
                    mark=endpoints.get(box.endpoint),
                    handled=handled,
                    tally=tally,
                    links=links,
                )
                await run.set_watermark(dumps(marks))
        await self._retire(run, tally)
        await run.set_watermark(dumps(marks))

    async def _apply_decisions(self, db: Database, snapshots: SnapshotStore, after: Any) -> float:
        """Advance snapshots to what users saw in items decided since the last run."""
        since = float(after) if isinstance(after, int | float) else 0.0
        rows = await db.fetch_all(
            "SELECT payload, decided_at FROM review_items WHERE kind = ?"
            " AND state IN ('accepted', 'rejected') AND payload IS NOT NULL AND decided_at > ?"
            " ORDER BY decided_at",
            (self.spec.kind, since),
        )
        newest = since
        for row in rows:
            payload = json.loads(row["payload"])
            seen = {c["field"]: c["upstream"] for c in payload.get("changes") or ()}
            await snapshots.advance(
                self.spec.entity,
                payload["endpoint"],
                payload["stash_box_id"],
                seen,
                row["decided_at"],
            )
            newest = max(newest, float(row["decided_at"]))
        return newest

    async def _endpoint(
        self,
        run: AnalyzerRun,
        *,
        box: StashBox,
        client: StashBoxClient,
        snapshots: SnapshotStore,
        mark: Any,
        handled: set[str],
        tally: _Tally,
        links: LinkIndex,
    ) -> dict[str, Any]:
        """Compare one endpoint's linked entities; return its new watermark."""
        label = box.name or domain_of(box.endpoint)
        mark = mark if isinstance(mark, dict) and not run.full else {}
        linked = await self._linked(run, box.endpoint, handled)
        handled.update(p["id"] for p in linked.values())
        known = await snapshots.for_endpoint(self.spec.entity, box.endpoint)
        newest_local = max(
            (str(p["updated_at"]) for p in linked.values()),
            default=None,
            key=_timestamp,
        )
        fetched, newest_upstream, complete = await self._recently_updated(
            client, mark.get("upstream"), set(linked), len(linked)
        )
        if not mark or not complete:
            todo = list(linked)
        else:
            margin = run.config.events.updated_margin_seconds
            local_since = mark.get("local")
            todo = [
                sbid
                for sbid, performer in linked.items()
                if sbid in fetched
                or sbid not in known
                or _newer_by(performer.get("updated_at"), local_since, margin)
            ]
        fields = self.enabled_fields(run.config)
        for index, sbid in enumerate(todo):
            if index % 10 == 0:
                run.check_cancelled()
                await run.progress(index, len(todo), f"{label}: {self.spec.plural}")
            upstream = fetched.get(sbid)
            if upstream is None:
                try:
                    data = await client.execute(self.spec.upstream_one, {"id": sbid})
                except StashBoxQueryError as err:
                    _LOGGER.warning("%s: %s %s: %s", label, self.spec.entity, sbid, err)
                    run.counts["errors"] += 1
                    continue
                upstream = data.get(f"find{self.spec.title}")
            await self._compare(
                run,
                box=box,
                label=label,
                local_raw=linked[sbid],
                sbid=sbid,
                upstream_raw=upstream,
                snapshot=known.get(sbid),
                snapshots=snapshots,
                fields=fields,
                tally=tally,
                links=links,
            )
        await run.progress(len(todo), len(todo), f"{label}: done")
        return {
            "upstream": newest_upstream or mark.get("upstream"),
            "local": newest_local or mark.get("local"),
        }

    async def _linked(
        self, run: AnalyzerRun, endpoint: str, handled: set[str]
    ) -> dict[str, dict[str, Any]]:
        """Return local entities linked to `endpoint` by stash-box id (lowest local id wins)."""
        spec = self.spec
        found: dict[str, dict[str, Any]] = {}
        page = 1
        while True:
            data = await run.stash.execute(
                spec.local_many,
                {
                    f"{spec.entity}_filter": {
                        "stash_id_endpoint": {"endpoint": endpoint, "modifier": "NOT_NULL"}
                    },
                    "filter": {
                        "page": page,
                        "per_page": _LOCAL_PAGE,
                        "sort": "id",
                        "direction": "ASC",
                    },
                },
            )
            result = data[f"find{spec.title}s"]
            performers = result.get(spec.plural) or []
            for performer in performers:
                if performer["id"] in handled:
                    continue  # a preferred endpoint already covers this performer
                for link in performer.get("stash_ids") or ():
                    if link["endpoint"] == endpoint and link["stash_id"] not in found:
                        found[link["stash_id"]] = performer
            if len(performers) < _LOCAL_PAGE or page * _LOCAL_PAGE >= int(result["count"]):
                return found
            page += 1

    async def _recently_updated(
        self, client: StashBoxClient, since: str | None, wanted: set[str], budget: int
    ) -> tuple[dict[str, dict[str, Any]], str | None, bool]:
        """Page stash-box performers newest first down to `since`; keep the linked ones.

        Returns them, the newest `updated` seen (the next watermark) and whether paging
        reached `since`; it gives up once it costs more calls than fetching each linked one.
        """
        fetched: dict[str, dict[str, Any]] = {}
        newest: str | None = None
        max_pages = max(1, budget // 2)
        page = 1
        while True:
            data = await client.execute(
                self.spec.upstream_updated, {"page": page, "per_page": _UPSTREAM_PAGE}
            )
            result = data[f"query{self.spec.title}s"]
            performers = result.get(self.spec.plural) or []
            if newest is None and performers:
                newest = performers[0].get("updated")
            if since is None:
                # A full pass fetches each linked performer; this call only set the watermark.
                return fetched, newest, False
            for performer in performers:
                if not _newer(performer.get("updated"), since):
                    return fetched, newest, True
                if performer["id"] in wanted:
                    fetched[performer["id"]] = performer
            if len(performers) < _UPSTREAM_PAGE:
                return fetched, newest, True
            if page >= max_pages:
                return fetched, newest, False
            page += 1

    async def _compare(
        self,
        run: AnalyzerRun,
        *,
        box: StashBox,
        label: str,
        local_raw: Mapping[str, Any],
        sbid: str,
        upstream_raw: Mapping[str, Any] | None,
        snapshot: Snapshot | None,
        snapshots: SnapshotStore,
        fields: Iterable[str],
        tally: _Tally,
        links: LinkIndex,
    ) -> None:
        """Diff one entity three ways; store or advance its snapshot; emit its changes."""
        key = subject(box.endpoint, sbid)
        if not upstream_raw or upstream_raw.get("deleted") or upstream_raw.get("merged_into_id"):
            # Gone or merged upstream: nothing to apply field by field.
            tally.in_sync.add(key)
            return
        spec = self.spec
        upstream = spec.upstream(upstream_raw)
        local = spec.local(local_raw, box.endpoint)
        updated = upstream_raw.get("updated")
        if snapshot is None:
            # First sighting: remember upstream as seen; only later edits are news.
            await snapshots.put(
                spec.entity,
                endpoint=box.endpoint,
                stash_box_id=sbid,
                local_id=str(local_raw["id"]),
                data=upstream,
                upstream_updated=updated,
            )
            run.counts["first_seen"] += 1
            return
        # Fields new to the mapping start from upstream as it is now.
        seen = {**upstream, **snapshot.data}
        changes: list[Change] = diff_fields(spec.fields, local, upstream, seen, fields)
        own = upstream.get("name") or local.get("name")
        # Fields where local caught up need no decision: the snapshot follows upstream.
        advanced = dict(seen)
        for name, field_spec in spec.fields.items():
            if values_equal(
                name, field_spec.merge, local.get(name), upstream.get(name), own_name=own
            ):
                advanced[name] = upstream.get(name)
        if advanced != snapshot.data:
            await snapshots.put(
                spec.entity,
                endpoint=box.endpoint,
                stash_box_id=sbid,
                local_id=str(local_raw["id"]),
                data=advanced,
                upstream_updated=updated,
            )
        if not changes:
            tally.in_sync.add(key)
            return
        tally.differing.add(key)
        resolved = {
            c.field: await links.resolve(spec.links[c.field].entity, box.endpoint, c.added)
            for c in changes
            if c.field in spec.links
        }
        await run.emit(
            spec.kind,
            scene_id=_scene_id(spec, local_raw),
            subject=key,
            payload=UpstreamChangesPayload(
                entity_type=spec.entity,
                local_id=str(local_raw["id"]),
                local_name=local_raw.get("name") or local_raw.get("title"),
                endpoint=box.endpoint,
                endpoint_name=label,
                stash_box_id=sbid,
                upstream_updated=updated,
                changes=[
                    FieldChange(
                        c.field,
                        c.label,
                        c.merge,
                        c.local,
                        c.upstream,
                        c.previous,
                        resolved.get(c.field, c.added),
                        c.removed,
                    )
                    for c in changes
                ],
            ),
            confidence=1.0,
        )

    async def _retire(self, run: AnalyzerRun, tally: _Tally) -> None:
        """Supersede pending items of entities now in sync (or gone upstream)."""
        stale = tally.in_sync - tally.differing
        if not stale:
            return
        page = await run.reviews.list(
            ItemFilter(kinds=(self.spec.kind,), states=(ReviewState.PENDING,)), limit=_LIST_LIMIT
        )
        # Scene items are filed under their scene: supersede scene by scene.
        pending: dict[int | None, set[str]] = defaultdict(set)
        for item in page.items:
            if item.subject is not None:
                pending[item.scene_id].add(item.subject)
        for scene_id, subjects in pending.items():
            if subjects & stale:
                await run.supersede(self.spec.kind, scene_id, subjects - stale)


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


class UpstreamPerformerChanges(UpstreamChanges):
    """Propose stash-box edits of linked performers that local has not taken yet."""

    name = "upstream_performer_changes"
    title = "Upstream performer changes"
    kind_type = UpstreamPerformerChangesKind
    spec = PERFORMER


class UpstreamStudioChanges(UpstreamChanges):
    """Propose stash-box edits of linked studios (name, aliases, URLs, parent)."""

    name = "upstream_studio_changes"
    title = "Upstream studio changes"
    kind_type = UpstreamStudioChangesKind
    spec = STUDIO


class UpstreamTagChanges(UpstreamChanges):
    """Propose stash-box edits of linked tags (name, description, aliases)."""

    name = "upstream_tag_changes"
    title = "Upstream tag changes"
    kind_type = UpstreamTagChangesKind
    spec = TAG


class UpstreamSceneChanges(UpstreamChanges):
    """Propose stash-box edits of linked scenes: simple fields, studio, performers, tags."""

    name = "upstream_scene_changes"
    title = "Upstream scene changes"
    kind_type = UpstreamSceneChangesKind
    spec = SCENE


def _scene_id(spec: EntitySpec, local_raw: Mapping[str, Any]) -> int | None:
    """Return the scene an item is filed under (scene changes only)."""
    return int(local_raw["id"]) if spec.entity == "scene" else None


def _newer_by(value: Any, since: Any, margin: float) -> bool:
    """Tell whether a local timestamp is later than `since` less a safety margin."""
    moment, start = (
        _parse_time(str(value) if value else None),
        _parse_time(str(since) if since else None),
    )
    if moment is None or start is None:
        return True
    return moment.timestamp() > start.timestamp() - margin


def _load_marks(watermark: str | None) -> dict[str, Any]:
    """Read the watermark (JSON); anything unreadable starts over."""
    if not watermark:
        return {}
    try:
        data = json.loads(watermark)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _by_priority(boxes: Sequence[StashBox], priorities: Sequence[str]) -> list[StashBox]:
    """Order endpoints: the configured priorities first (URL or domain), then Stash's order."""

    def rank(box: StashBox) -> int:
        for index, wanted in enumerate(priorities):
            if "://" in wanted:
                if normalize_endpoint(wanted) == normalize_endpoint(box.endpoint):
                    return index
            elif domain_of(wanted) == domain_of(box.endpoint):
                return index
        return len(priorities)

    return sorted(boxes, key=rank)
