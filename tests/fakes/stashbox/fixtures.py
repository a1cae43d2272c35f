"""Pytest fixtures: a started fake stash-box, and a factory for configured ones."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest_asyncio

from .server import FakeStashBox

__all__ = ["FakeStashBoxFactory", "fake_stashbox", "fake_stashbox_factory"]

FakeStashBoxFactory = Callable[..., Awaitable[FakeStashBox]]


@pytest_asyncio.fixture
async def fake_stashbox() -> AsyncIterator[FakeStashBox]:
    """Yield a started FakeStashBox with its default API key and an empty catalogue."""
    async with FakeStashBox() as fake:
        yield fake


@pytest_asyncio.fixture
async def fake_stashbox_factory() -> AsyncIterator[FakeStashBoxFactory]:
    """Yield `await factory(**FakeStashBox kwargs)`; every fake made is stopped at teardown."""
    started: list[FakeStashBox] = []

    async def factory(**kwargs: Any) -> FakeStashBox:
        fake = await FakeStashBox(**kwargs).start()
        started.append(fake)
        return fake

    yield factory
    for fake in reversed(started):
        await fake.stop()
