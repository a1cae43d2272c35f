"""Pytest fixtures: a started fake Stash, and a factory for configured ones."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest_asyncio

from .server import FakeStash

__all__ = ["FakeStashFactory", "fake_stash", "fake_stash_factory"]

FakeStashFactory = Callable[..., Awaitable[FakeStash]]


@pytest_asyncio.fixture
async def fake_stash() -> AsyncIterator[FakeStash]:
    """Yield a started FakeStash without an API key."""
    async with FakeStash() as fake:
        yield fake


@pytest_asyncio.fixture
async def fake_stash_factory() -> AsyncIterator[FakeStashFactory]:
    """Yield ``await factory(**FakeStash kwargs)``; every fake made is stopped at teardown."""
    started: list[FakeStash] = []

    async def factory(**kwargs: Any) -> FakeStash:
        fake = await FakeStash(**kwargs).start()
        started.append(fake)
        return fake

    yield factory
    for fake in reversed(started):
        await fake.stop()
