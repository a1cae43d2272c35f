"""Tell whether the daemon runs: its health route answers at the configured address."""

from __future__ import annotations

import ipaddress

import aiohttp

from stash_sense.config import Config

_TIMEOUT_SECONDS = 3.0


def health_url(config: Config) -> str:
    """Return the URL of the daemon's health route for this config."""
    return f"http://{_host(config.server.host)}:{config.server.port}/api/v1/health"


def _host(bound: str) -> str:
    """Return where to reach a daemon bound to `bound`: loopback when bound to every address."""
    try:
        address = ipaddress.ip_address(bound) if bound else None
    except ValueError:
        return bound  # a host name
    if address is None or address.is_unspecified:
        address = ipaddress.ip_address("::1" if address and address.version == 6 else "127.0.0.1")
    return f"[{address}]" if address.version == 6 else str(address)


async def daemon_answers(config: Config) -> bool:
    """Tell whether a Stash Sense daemon answers its health route (no token needed)."""
    timeout = aiohttp.ClientTimeout(total=_TIMEOUT_SECONDS)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(health_url(config)) as response,
        ):
            if response.status != 200:
                return False
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return False
    # Another service on the port is not a daemon that will run the job.
    return isinstance(body, dict) and "version" in body and "queue" in body
