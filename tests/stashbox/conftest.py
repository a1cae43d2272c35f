"""Fixtures for the stash-box client tests: fake stash-boxes and clients configured for them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest_asyncio

from stash_sense.stashbox import StashBoxClient
from tests.fakes.stash.fixtures import fake_stash_factory
from tests.fakes.stashbox import FakeStashBox
from tests.fakes.stashbox.fixtures import fake_stashbox, fake_stashbox_factory

__all__ = ["fake_stash_factory", "fake_stashbox", "fake_stashbox_factory"]

SECRET = "sb-s3cr3t-Key-0815"

ClientFactory = Callable[..., Awaitable[StashBoxClient]]


@pytest_asyncio.fixture
async def make_client() -> AsyncIterator[ClientFactory]:
    """Yield `await make_client(fake, **kwargs)`: a fast client with the fake's key."""
    made: list[StashBoxClient] = []

    async def factory(fake: FakeStashBox, **overrides: Any) -> StashBoxClient:
        options: dict[str, Any] = {
            "requests_per_minute": 60_000.0,
            "timeout_seconds": 5.0,
            "max_retries": 2,
            "backoff_base_seconds": 0.01,
            "backoff_max_seconds": 2.0,
            **overrides,
        }
        api_key = options.pop("api_key", fake.api_key)
        client = StashBoxClient(fake.graphql_url, api_key, **options)
        await client.connect()
        made.append(client)
        return client

    yield factory
    for client in made:
        await client.close()
