"""Name stash-box endpoints: comparable URLs, face-database domains, disabled ones."""

from __future__ import annotations

from collections.abc import Iterable

from yarl import URL


def endpoint_url(value: str) -> URL | None:
    """Return an http(s) endpoint as a URL, or None when it is not one (a bare domain)."""
    try:
        url = URL(value.strip())
    except ValueError:
        return None
    return url if url.scheme in ("http", "https") and url.host else None


def normalize_endpoint(endpoint: str) -> str:
    """Return an endpoint URL in comparable form: lowercase host, no trailing slash."""
    url = endpoint_url(endpoint)
    if url is None:
        return endpoint.strip()
    path = url.path.rstrip("/")
    return str(url.with_path(path or "/").with_query(None).with_fragment(None))


def bare_domain(host: str) -> str:
    """Return a host as a domain: lowercase, no trailing dot, no "www."."""
    host = host.strip().lower().rstrip(".")
    return host.removeprefix("www.")


def domain_keys(endpoint_or_domain: str) -> tuple[str, ...]:
    """Return the domains that name an endpoint: its host (no "www."), and host:port if set."""
    url = endpoint_url(endpoint_or_domain)
    if url is None:
        return (bare_domain(endpoint_or_domain),)
    host = bare_domain(url.raw_host or "")
    return (host, f"{host}:{url.port}") if url.explicit_port else (host,)


def domain_of(endpoint: str) -> str:
    """Return the face-database domain of an endpoint URL (e.g. "stashdb.org")."""
    return domain_keys(endpoint)[0]


class DisabledEndpoints:
    """The endpoints `[stashbox] disabled_endpoints` turns off, by URL or by domain.

    A domain entry turns off every endpoint of that domain; a URL entry turns off that
    endpoint only, so asked about a bare domain it does not count (`disabled`) unless
    the question is about face-database results (`domain_disabled`), which name only a
    domain.
    """

    def __init__(self, entries: Iterable[str]) -> None:
        listed = [e.strip() for e in entries if e.strip()]
        self._urls = {normalize_endpoint(e) for e in listed if endpoint_url(e)}
        self._domains = {bare_domain(e) for e in listed if not endpoint_url(e)}
        self._url_domains = {k for e in listed if endpoint_url(e) for k in domain_keys(e)}

    def disabled(self, endpoint_or_domain: str) -> bool:
        """Tell whether the configuration turned an endpoint (URL or domain) off."""
        if any(k in self._domains for k in domain_keys(endpoint_or_domain)):
            return True
        return bool(endpoint_url(endpoint_or_domain)) and (
            normalize_endpoint(endpoint_or_domain) in self._urls
        )

    def domain_disabled(self, domain: str) -> bool:
        """Tell whether any entry, URL or domain, turns off a face-database domain."""
        keys = domain_keys(domain)
        return any(k in self._domains or k in self._url_domains for k in keys)
