"""The analyzers that propose stash-box edits of linked entities (3-way diff)."""

from __future__ import annotations

import functools
import logging
from abc import abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from stash_sense.analyzers.base import Analyzer, AnalyzerRun, AnalyzerServices
from stash_sense.analyzers.link_index import LinkIndex
from stash_sense.analyzers.upstream.kind import (
    UpstreamChangesKind,
    UpstreamPerformerChangesKind,
    UpstreamSceneChangesKind,
    UpstreamStudioChangesKind,
    UpstreamTagChangesKind,
    check_interrupted,
)
from stash_sense.analyzers.upstream.marks import by_priority, load_marks, newer, newer_by, timestamp
from stash_sense.analyzers.upstream.payload import FieldChange, UpstreamChangesPayload, subject
from stash_sense.analyzers.upstream.snapshots import Snapshot, SnapshotStore
from stash_sense.analyzers.upstream.spec import (
    PERFORMER,
    SCENE,
    STUDIO,
    TAG,
    EntitySpec,
)
from stash_sense.analyzers.upstream_fields import (
    Change,
    diff_fields,
    values_equal,
)
from stash_sense.config import Config
from stash_sense.review import (
    ItemFilter,
    ReviewKind,
    ReviewState,
)
from stash_sense.review.models import dumps
from stash_sense.review.store import ReviewStore
from stash_sense.stash import StashClient
from stash_sense.stash.models import StashBox
from stash_sense.stashbox import (
    StashBoxClient,
    StashBoxPool,
    StashBoxQueryError,
    domain_of,
)
from stash_sense.store import Database
from stash_sense.writes import AuditLog
from stash_sense.writes.interrupted import Check

_LOGGER = logging.getLogger(__name__)
_LOCAL_PAGE = 500
_UPSTREAM_PAGE = 100
_LIST_LIMIT = 100_000


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

    def write_checks(self) -> Mapping[str, Check]:
        """Check interrupted field updates against the entity in Stash."""
        return {f"upstream_{self.spec.entity}": functools.partial(check_interrupted, self.spec)}

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
        marks = load_marks(run.watermark)
        marks["decisions"] = await self._apply_decisions(
            run.reviews.store, snapshots, marks.get("decisions")
        )
        config = run.config
        boxes = by_priority(await run.stash.stash_boxes(), config.analyzers.endpoint_priorities)
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

    async def _apply_decisions(
        self, reviews: ReviewStore, snapshots: SnapshotStore, after: Any
    ) -> float:
        """Advance snapshots to what users saw in items decided since the last run."""
        since = float(after) if isinstance(after, int | float) else 0.0
        newest = since
        for item in await reviews.decided_since(self.spec.kind, since):
            payload = item.payload or {}
            decided_at = float(item.decided_at or 0.0)
            seen = {c["field"]: c["upstream"] for c in payload.get("changes") or ()}
            await snapshots.advance(
                self.spec.entity, payload["endpoint"], payload["stash_box_id"], seen, decided_at
            )
            newest = max(newest, decided_at)
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
            key=timestamp,
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
                or newer_by(performer.get("updated_at"), local_since, margin)
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
                if not newer(performer.get("updated"), since):
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
