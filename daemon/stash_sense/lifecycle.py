"""Background tasks for start-up contexts: one for the length of a block, or a periodic one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

_LOGGER = logging.getLogger(__name__)


async def every(seconds: float, action: Callable[[], Awaitable[None]]) -> None:
    """Run `action` every `seconds`, logging (not raising) its failures."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await action()
        except Exception:
            _LOGGER.exception("Periodic task %s failed", getattr(action, "__name__", action))


@contextlib.asynccontextmanager
async def background(coro: Awaitable[None], name: str) -> AsyncIterator[None]:
    """Run a coroutine as a task for the duration of the block, then cancel it."""
    task = asyncio.ensure_future(coro)
    task.set_name(name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
