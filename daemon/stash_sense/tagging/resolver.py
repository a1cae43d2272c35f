"""Find the local performer behind a face-database id ("stashdb.org:<uuid>")."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from stash_sense.stash.client import StashClient
from stash_sense.stashbox import domain_of


@dataclass(frozen=True)
class Resolved:
    """Where a universal id leads in this Stash."""

    universal_id: str
    endpoint: str  # the stash-box endpoint URL as configured in Stash
    stash_id: str
    performer_id: str | None  # the local performer, None when it does not exist yet


def parse_domain_overrides(entries: Sequence[str]) -> dict[str, str]:
    """Parse "domain=endpoint URL" entries."""
    found = {}
    for entry in entries:
        domain, sep, url = entry.partition("=")
        if not sep or not domain.strip() or not url.strip():
            raise ValueError(f"stashbox.endpoint_domains entry {entry!r} is not domain=URL")
        found[domain.strip().lower()] = url.strip()
    return found


class PerformerResolver:
    """Map universal ids to local performers through their stash_ids, with a cache.

    Stash's configured stash-box endpoints tell which URL is which domain. Lookups are
    cached for `ttl` seconds; performer events and accepted suggestions invalidate.
    """

    def __init__(self, stash: StashClient, *, ttl: float, overrides: Sequence[str] = ()) -> None:
        self._stash = stash
        self._ttl = ttl
        self._overrides = parse_domain_overrides(overrides)
        self._endpoints: dict[str, str] | None = None
        self._endpoints_at = 0.0
        self._cache: dict[str, tuple[float, Resolved]] = {}
        self._lock = asyncio.Lock()

    async def endpoint_for(self, domain: str) -> str:
        """Return the endpoint URL Stash uses for a domain (a guess if none is configured)."""
        if domain in self._overrides:
            return self._overrides[domain]
        now = time.monotonic()
        async with self._lock:
            if self._endpoints is None or now - self._endpoints_at > self._ttl:
                boxes = await self._stash.stash_boxes()
                self._endpoints = {domain_of(b.endpoint): b.endpoint for b in boxes}
                self._endpoints_at = now
            endpoints = self._endpoints
        return endpoints.get(domain, f"https://{domain}/graphql")

    async def resolve(self, universal_id: str, *, fresh: bool = False) -> Resolved:
        """Return the local performer for a universal id (looked up unless cached)."""
        now = time.monotonic()
        cached = self._cache.get(universal_id)
        if cached is not None and not fresh and now - cached[0] <= self._ttl:
            return cached[1]
        domain, _, stash_id = universal_id.partition(":")
        endpoint = await self.endpoint_for(domain)
        found = await self._stash.find_performers_by_stash_id(endpoint, stash_id)
        # Several local performers with one stash id are duplicates: take the oldest.
        ids = sorted((p.id for p in found), key=lambda i: (len(i), i))
        resolved = Resolved(universal_id, endpoint, stash_id, ids[0] if ids else None)
        self._cache[universal_id] = (now, resolved)
        return resolved

    def forget(self, universal_id: str | None = None) -> None:
        """Drop one cached lookup, or all of them (a performer changed in Stash)."""
        if universal_id is None:
            self._cache.clear()
            self._endpoints = None
        else:
            self._cache.pop(universal_id, None)
