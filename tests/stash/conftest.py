"""Fixtures for the Stash client tests: the fake Stash and clients configured for it."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio

from stash_sense.config.model import StashConfig
from stash_sense.stash import StashClient
from tests.fakes.stash import FakeStash
from tests.fakes.stash.fixtures import fake_stash, fake_stash_factory

__all__ = ["fake_stash", "fake_stash_factory"]

SECRET = "s3cr3t-Api-Key-4711"

ClientFactory = Callable[..., Awaitable[StashClient]]


def config_for(target: FakeStash | str, **overrides: Any) -> StashConfig:
    """Return a fast StashConfig for a fake (its key) or a bare URL (no key)."""
    if isinstance(target, FakeStash):
        base = StashConfig(url=target.url, api_key=target.api_key or "")
    else:
        base = StashConfig(url=target)
    fast = {"requests_per_second": 1000.0, "timeout_seconds": 10.0, "max_retries": 2}
    return dataclasses.replace(base, **{**fast, **overrides})


@pytest_asyncio.fixture
async def make_client() -> AsyncIterator[ClientFactory]:
    """Yield `await make_client(fake_or_url, **config)`; clients close at teardown."""
    made: list[StashClient] = []

    async def factory(target: FakeStash | str, **overrides: Any) -> StashClient:
        client = StashClient(config_for(target, **overrides), backoff_base_seconds=0.01)
        await client.connect()
        made.append(client)
        return client

    yield factory
    for client in made:
        await client.close()


def count_requests(fake: FakeStash) -> Callable[[], int]:
    """Count every HTTP request the fake sees, including refused and faulted ones."""
    # A zero-second latency fault touches each request before auth and other faults.
    fake.faults.latency(0.0, count=1_000_000)
    return lambda: fake.faults.injected.count("latency")


@pytest.fixture
def closed_port_url() -> str:
    """Return a loopback URL on which nothing listens."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
