"""StashBoxPool: one client per stash-box endpoint configured in Stash, found by URL or domain."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Self

import aiohttp
from yarl import URL

from ..stash.models import StashBox
from .client import DEFAULT_REQUESTS_PER_MINUTE, StashBoxClient

if TYPE_CHECKING:
    from ..config.model import StashBoxConfig
    from ..stash.client import StashClient

log = logging.getLogger(__name__)


def _url(value: str) -> URL | None:
    try:
        url = URL(value.strip())
    except ValueError:
        return None
    return url if url.scheme in ("http", "https") and url.host else None


def normalize_endpoint(endpoint: str) -> str:
    """Return an endpoint URL in comparable form: lowercase host, no trailing slash."""
    url = _url(endpoint)
    if url is None:
        return endpoint.strip()
    path = url.path.rstrip("/")
    return str(url.with_path(path or "/").with_query(None).with_fragment(None))


def _bare_domain(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    return host.removeprefix("www.")


def domain_keys(endpoint_or_domain: str) -> tuple[str, ...]:
    """Return the domains that name an endpoint: its host (no "www."), and host:port if set."""
    url = _url(endpoint_or_domain)
    if url is None:
        return (_bare_domain(endpoint_or_domain),)
    host = _bare_domain(url.raw_host or "")
    return (host, f"{host}:{url.port}") if url.explicit_port else (host,)


def domain_of(endpoint: str) -> str:
    """Return the face-database domain of an endpoint URL (e.g. "stashdb.org")."""
    return domain_keys(endpoint)[0]


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
        self._disabled_urls = {normalize_endpoint(d) for d in disabled_endpoints if _url(d)}
        self._disabled_domains = {_bare_domain(d) for d in disabled_endpoints if not _url(d)}
        self._by_endpoint: dict[str, StashBoxClient] = {}
        self._by_domain: dict[str, StashBoxClient] = {}
        for box in boxes:
            label = box.name or domain_of(box.endpoint)
            if _url(box.endpoint) is None:
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
        if _url(endpoint_or_domain) and (
            normalize_endpoint(endpoint_or_domain) in self._disabled_urls
        ):
            return True
        return any(d in self._disabled_domains for d in domain_keys(endpoint_or_domain))

    def for_endpoint(self, endpoint: str) -> StashBoxClient | None:
        """Return the client of an endpoint URL, or None."""
        return self._by_endpoint.get(normalize_endpoint(endpoint))

    def for_domain(self, domain: str) -> StashBoxClient | None:
        """Return the client of a face-database domain ("stashdb.org"), or None."""
        return self._by_domain.get(_bare_domain(domain))

    def get(self, endpoint_or_domain: str) -> StashBoxClient | None:
        """Return the client named by an endpoint URL or a domain, or None."""
        if _url(endpoint_or_domain):
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
