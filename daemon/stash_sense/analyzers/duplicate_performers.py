"""Duplicate performers: local performers linked to the same stash-box performer."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from stash_sense.analyzers.base import Analyzer, AnalyzerRun
from stash_sense.config import Config
from stash_sense.review import (
    ActionRefused,
    InvalidOptions,
    Resuggest,
    ResuggestPolicy,
    ReviewItem,
    ReviewKind,
)
from stash_sense.review.kinds import members_fingerprint
from stash_sense.stash import StashClient
from stash_sense.stashbox import DisabledEndpoints
from stash_sense.writes import AuditLog, Mutation, StashWriter, new_mutation_id

_LOGGER = logging.getLogger(__name__)
KIND = "duplicate_performer"
ACTION = "merge_performers"
_PAGE = 500


@dataclass(frozen=True)
class DuplicatePerformer:
    """One performer of a duplicate group, with what ranks it as the keeper."""

    id: str
    name: str
    scene_count: int
    image_count: int
    gallery_count: int
    image_path: str | None = None

    @property
    def total_content(self) -> int:
        """Count everything linked to the performer."""
        return self.scene_count + self.image_count + self.gallery_count


@dataclass(frozen=True)
class DuplicatePerformerPayload:
    """Performers sharing one stash-box id; the first is the suggested keeper."""

    endpoint: str
    stash_id: str
    performers: list[DuplicatePerformer]
    suggested_keeper_id: str


class DuplicatePerformerKind(ReviewKind[DuplicatePerformerPayload]):
    """Accepting merges the group into the keeper with Stash's `performerMerge`."""

    name = KIND
    payload_type = DuplicatePerformerPayload
    destructive = True
    scene_scoped = False
    # A dismissed or merged group comes back only when its members change.
    resuggest_after_resolve = ResuggestPolicy(
        after_accept=Resuggest.IF_CHANGED, after_reject=Resuggest.IF_CHANGED
    )

    def __init__(self, stash: StashClient, config: Config, audit: AuditLog | None = None) -> None:
        self._stash = stash
        self._config = config
        self._writer = StashWriter(stash, audit)

    def fingerprint(self, payload: dict[str, Any]) -> str:
        """Compare groups by their members, not by their changing content counts."""
        return members_fingerprint(p["id"] for p in payload.get("performers", []))

    async def accept(self, item: ReviewItem, options: dict[str, Any]) -> dict[str, Any]:
        """Merge the other performers into the keeper (idempotent: merged ones are gone)."""
        payload = self.load(item.payload)
        ids = [p.id for p in payload.performers]
        keeper = str(options.get("keeper_id", payload.suggested_keeper_id))
        if keeper not in ids:
            raise InvalidOptions(f"keeper_id must be one of {', '.join(ids)}")
        data = await self._stash.execute("FindPerformersByIds", {"ids": ids})
        current = {str(p["id"]): p for p in data["findPerformers"]["performers"]}
        if keeper not in current:
            raise ActionRefused(f"performer {keeper} no longer exists; nothing was merged")
        link = (payload.endpoint, payload.stash_id)
        # Only performers still linked to the same stash-box performer are merged.
        sources = [i for i in ids if i != keeper and i in current and _linked(current[i], link)]
        if not sources:
            return {"keeper_id": keeper, "merged_ids": [], "already_merged": True}
        values = _merged_values(current[keeper], [current[i] for i in sources])
        merge = {"source": sources, "destination": keeper, "values": values}
        entry = await self._writer.send(
            Mutation("PerformerMerge", {"input": merge}),
            # Merges concern no scene; 0 keeps them apart from scene writes.
            scene_id=0,
            action=ACTION,
            reason=f"review:{item.id}: merge performers {', '.join(sources)} into {keeper}",
            mutation_id=new_mutation_id(),
            before_ids=[keeper, *sources],
            performer_ids=sources,
            target=f"performer:{keeper}",
        )
        _LOGGER.info("Merged performers %s into %s", sources, keeper)
        return {"keeper_id": keeper, "merged_ids": sources, "audit_id": entry}


def _linked(performer: dict[str, Any], link: tuple[str, str]) -> bool:
    """Tell whether a performer is still linked to (endpoint, stash_id)."""
    return any((s["endpoint"], s["stash_id"]) == link for s in performer.get("stash_ids") or ())


def _merged_values(keeper: dict[str, Any], sources: list[dict[str, Any]]) -> dict[str, Any]:
    """Keep the sources' names, aliases and stash ids on the keeper (Stash drops them)."""
    name = str(keeper["name"])
    seen = {name.casefold()}
    aliases: list[str] = []
    candidates = list(keeper.get("alias_list") or ())
    for source in sources:
        candidates += [source["name"], *(source.get("alias_list") or ())]
    for alias in candidates:
        if alias and alias.casefold() not in seen:
            seen.add(alias.casefold())
            aliases.append(alias)
    stash_ids: dict[tuple[str, str], dict[str, str]] = {}
    for performer in (keeper, *sources):
        for ref in performer.get("stash_ids") or ():
            key = (ref["endpoint"], ref["stash_id"])
            stash_ids.setdefault(key, {"endpoint": key[0], "stash_id": key[1]})
    return {"id": keeper["id"], "alias_list": aliases, "stash_ids": list(stash_ids.values())}


class DuplicatePerformers(Analyzer):
    """Find performers that share a stash-box id on one endpoint."""

    name = "duplicate_performers"
    title = "Duplicate performers"
    logic_version = 1
    kinds = (DuplicatePerformerKind,)
    default_schedule = "interval:168h"

    async def run(self, run: AnalyzerRun) -> None:
        """Scan linked performers (cheap, so always in full) and propose each group."""
        disabled = DisabledEndpoints(self.config.stashbox.disabled_endpoints)
        groups: dict[tuple[str, str], dict[str, DuplicatePerformer]] = defaultdict(dict)
        page, seen, total = 1, 0, None
        while total is None or seen < total:
            run.check_cancelled()
            data = await run.stash.execute(
                "FindLinkedPerformers",
                {"filter": {"page": page, "per_page": _PAGE, "sort": "id", "direction": "ASC"}},
            )
            result = data["findPerformers"]
            total = int(result["count"])
            performers = result["performers"]
            if not performers:
                break
            for raw in performers:
                entry = _entry(raw)
                for ref in raw.get("stash_ids") or ():
                    if not disabled.disabled(ref["endpoint"]):
                        groups[(ref["endpoint"], ref["stash_id"])][entry.id] = entry
            seen += len(performers)
            page += 1
            await run.progress(seen, total, "reading performers")
        found: list[str] = []
        for (endpoint, stash_id), members in sorted(groups.items()):
            if len(members) < 2:
                continue
            ranked = sorted(members.values(), key=lambda p: (-p.total_content, int(p.id)))
            subject = f"{endpoint}|{stash_id}"
            found.append(subject)
            await run.emit(
                KIND,
                scene_id=None,
                subject=subject,
                payload=DuplicatePerformerPayload(endpoint, stash_id, ranked, ranked[0].id),
                confidence=1.0,
            )
        # Groups merged or unlinked since the last run no longer need a decision.
        await run.supersede(KIND, None, found)
        await run.progress(seen, total, f"{len(found)} duplicate groups")


def _entry(raw: dict[str, Any]) -> DuplicatePerformer:
    """Build a group member from a `Performer` object."""
    return DuplicatePerformer(
        id=str(raw["id"]),
        name=str(raw["name"]),
        scene_count=int(raw.get("scene_count") or 0),
        image_count=int(raw.get("image_count") or 0),
        gallery_count=int(raw.get("gallery_count") or 0),
        image_path=raw.get("image_path"),
    )
