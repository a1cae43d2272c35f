"""StashBoxPool: one client per stash-box endpoint configured in Stash, found by URL or domain."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Self

import aiohttp

from ..stash.models import StashBox
from .client import DEFAULT_REQUESTS_PER_MINUTE, StashBoxClient
from .endpoints import (
    DisabledEndpoints,
    bare_domain,
    domain_keys,
    domain_of,
    endpoint_url,
    normalize_endpoint,
)

if TYPE_CHECKING:
    from ..config.model import StashBoxConfig
    from ..stash.client import StashClient

log = logging.getLogger(__name__)


class StashBoxPool:
    """The usable stash-box endpoints: keyed, not disabled, each with its own client."""

    def __init__(
        self,
        boxes: Iterable[StashBox],
        *,
        disabled_endpoints: Iterable[str] = (),
        requests_per_minute: float | None = None,
        timeout_seconds: float = 30,
        max_retries: int = 3,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        """Build a client per box.

        The rate limit is Stash's `max_requests_per_minute` when set, else 240; a given
        `requests_per_minute` caps it (or replaces the 240 default). `disabled_endpoints`
        lists URLs or domains that get no client.
        """
        self._disabled = DisabledEndpoints(disabled_endpoints)
        self._by_endpoint: dict[str, StashBoxClient] = {}
        self._by_domain: dict[str, StashBoxClient] = {}
        for box in boxes:
            label = box.name or domain_of(box.endpoint)
            if endpoint_url(box.endpoint) is None:
                log.warning("stash-box %s: endpoint is not an http(s) URL; skipped", label)
                continue
            if self.is_disabled(box.endpoint):
                log.info("stash-box %s: disabled in the configuration", label)
                continue
            if not box.api_key:
                log.warning("stash-box %s: Stash has no API key for it; skipped", label)
                continue
            key = normalize_endpoint(box.endpoint)
            if key in self._by_endpoint:
                continue
            client = StashBoxClient(
                box.endpoint,
                box.api_key,
                requests_per_minute=self._rate(box, requests_per_minute),
                timeout_seconds=timeout_seconds,
                max_retries=max_retries,
                session=session,
            )
            self._by_endpoint[key] = client
            for domain in domain_keys(box.endpoint):
                if self._by_domain.setdefault(domain, client) is not client:
                    log.warning("stash-box %s: domain %s already names another", label, domain)

    @staticmethod
    def _rate(box: StashBox, cap: float | None) -> float:
        own = float(box.max_requests_per_minute) if box.max_requests_per_minute > 0 else None
        if own is None:
            return cap if cap is not None else DEFAULT_REQUESTS_PER_MINUTE
        return min(own, cap) if cap is not None else own

    @classmethod
    def configured(cls, boxes: Iterable[StashBox], settings: StashBoxConfig) -> StashBoxPool:
        """Build a pool with the `[stashbox]` settings: disabled endpoints, rate cap, retries."""
        return cls(
            boxes,
            disabled_endpoints=settings.disabled_endpoints,
            requests_per_minute=settings.requests_per_minute,
            timeout_seconds=settings.timeout_seconds,
            max_retries=settings.max_retries,
        )

    @classmethod
    async def from_stash(
        cls,
        stash: StashClient,
        *,
        disabled_endpoints: Iterable[str] = (),
        requests_per_minute: float | None = None,
        timeout_seconds: float = 30,
        max_retries: int = 3,
        session: aiohttp.ClientSession | None = None,
    ) -> StashBoxPool:
        """Build a pool from the stash-boxes configured in Stash."""
        return cls(
            await stash.stash_boxes(),
            disabled_endpoints=disabled_endpoints,
            requests_per_minute=requests_per_minute,
            timeout_seconds=timeout_seconds,
            max_retries=max_retries,
            session=session,
        )

    def is_disabled(self, endpoint_or_domain: str) -> bool:
        """Tell whether the configuration turned an endpoint (URL or domain) off."""
        return self._disabled.disabled(endpoint_or_domain)

    def for_endpoint(self, endpoint: str) -> StashBoxClient | None:
        """Return the client of an endpoint URL, or None."""
        return self._by_endpoint.get(normalize_endpoint(endpoint))

    def for_domain(self, domain: str) -> StashBoxClient | None:
        """Return the client of a face-database domain ("stashdb.org"), or None."""
        return self._by_domain.get(bare_domain(domain))

    def get(self, endpoint_or_domain: str) -> StashBoxClient | None:
        """Return the client named by an endpoint URL or a domain, or None."""
        if endpoint_url(endpoint_or_domain):
            return self.for_endpoint(endpoint_or_domain)
        return self.for_domain(endpoint_or_domain)

    @property
    def clients(self) -> tuple[StashBoxClient, ...]:
        """Return every client, in Stash's order."""
        return tuple(self._by_endpoint.values())

    @property
    def domains(self) -> tuple[str, ...]:
        """Return every domain that names a client."""
        return tuple(self._by_domain)

    def __len__(self) -> int:
        return len(self._by_endpoint)

    def __iter__(self) -> Iterator[StashBoxClient]:
        return iter(self.clients)

    def __contains__(self, endpoint_or_domain: object) -> bool:
        return isinstance(endpoint_or_domain, str) and self.get(endpoint_or_domain) is not None

    async def close(self) -> None:
        """Close every client (a lent session stays open)."""
        for client in self.clients:
            await client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
