"""Create the local performer, studio or tag behind an upstream link, exactly once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from stash_sense.config.model import StashBoxConfig
from stash_sense.review import ActionRefused
from stash_sense.stash import StashClient
from stash_sense.stash.errors import StashQueryError
from stash_sense.stashbox import StashBoxClient, StashBoxPool, StashBoxQueryError
from stash_sense.writes import StashWriter

_LOGGER = logging.getLogger(__name__)
_PLURAL = {"performer": "performers", "studio": "studios", "tag": "tags"}


class LinkCreator:
    """Find or create local entities for upstream refs the library does not have."""

    def __init__(self, stash: StashClient, writer: StashWriter, config: StashBoxConfig) -> None:
        self._stash = stash
        self._writer = writer
        self._config = config
        # One lock per stash-box entity: two accepts never create it twice.
        self._locks: dict[tuple[str, str, str], asyncio.Lock] = {}

    async def ensure_all(
        self, endpoint: str, fields: Mapping[str, tuple[str, Sequence[Mapping[str, Any]]]]
    ) -> dict[str, list[dict[str, Any]]]:
        """Return each field's refs with `local_id` set, creating what is missing.

        `fields` maps a field name to (linked entity type, refs). One stash-box pool
        serves the whole call, and only when something is missing.
        """
        out = {name: [dict(ref) for ref in refs] for name, (_, refs) in fields.items()}
        missing = [
            (fields[name][0], ref)
            for name, refs in out.items()
            for ref in refs
            if not ref.get("local_id")
        ]
        if not missing:
            return out
        # A pool per call: creations are rare, and Stash's list of boxes may have changed.
        async with StashBoxPool.configured(await self._stash.stash_boxes(), self._config) as pool:
            client = pool.for_endpoint(endpoint)
            if client is None:
                raise ActionRefused(f"stash-box {endpoint} is not configured (or disabled)")
            for entity, ref in missing:
                ref["local_id"], created = await self._ensure(client, entity, endpoint, ref)
                ref["matched_by"] = "created" if created else "stash_id"
        return out

    async def _ensure(
        self, client: StashBoxClient, entity: str, endpoint: str, ref: Mapping[str, Any]
    ) -> tuple[str, bool]:
        """Return the local id for one ref and whether it was created now."""
        sbid = str(ref.get("id") or "")
        if not sbid:
            raise ActionRefused(f"{entity} {ref.get('name')!r} has no stash-box id to create from")
        lock = self._locks.setdefault((entity, endpoint, sbid), asyncio.Lock())
        async with lock:
            # Look again right before creating: never a duplicate of a linked entity.
            found = await self._linked(entity, endpoint, sbid)
            if found is not None:
                return found, False
            try:
                local_id = await self._create(client, entity, endpoint, sbid)
            except (StashQueryError, StashBoxQueryError) as err:
                raise ActionRefused(
                    f"could not create {entity} {ref.get('name')!r}: {err}"
                ) from err
        _LOGGER.info("Created %s %s from %s %s", entity, local_id, endpoint, sbid)
        return local_id, True

    async def _linked(self, entity: str, endpoint: str, sbid: str) -> str | None:
        """Return the local entity already linked to a stash-box id, if any."""
        title = _PLURAL[entity].capitalize()
        data = await self._stash.execute(
            f"Find{title}ByStashId", {"endpoint": endpoint, "stash_id": sbid}
        )
        rows = data[f"find{title}"].get(_PLURAL[entity]) or []
        return str(rows[0]["id"]) if rows else None

    async def _create(self, client: StashBoxClient, entity: str, endpoint: str, sbid: str) -> str:
        """Create one entity from its stash-box entry; return its local id."""
        link = [{"endpoint": endpoint, "stash_id": sbid}]
        if entity == "performer":
            performer = await client.find_performer(sbid, follow_merge=False)
            if performer is None or performer.deleted:
                raise ActionRefused(f"performer {sbid} is not on {endpoint} any more")
            created = await self._writer.new_performer(
                performer.name,
                stash_ids=[(endpoint, sbid)],
                disambiguation=performer.disambiguation,
                aliases=performer.aliases,
                country=performer.country,
                image=performer.images[0].url if performer.images else None,
            )
            return created.id
        title = entity.capitalize()
        data = (await client.execute(f"Upstream{title}", {"id": sbid})).get(f"find{title}")
        if not data or data.get("deleted"):
            raise ActionRefused(f"{entity} {sbid} is not on {endpoint} any more")
        values: dict[str, Any] = {"name": data["name"], "stash_ids": link}
        if data.get("aliases"):
            values["aliases"] = [a for a in data["aliases"] if a and a != data["name"]]
        if entity == "tag":
            if data.get("description"):
                values["description"] = data["description"]
            return await self._writer.create("tag", values)
        values["urls"] = [u["url"] for u in data.get("urls") or () if u.get("url")]
        return await self._writer.create("studio", values)
