"""The review queue's start-up context."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from stash_sense.keys import DAEMON, REVIEW, STORE
from stash_sense.review.queue import ReviewQueue
from stash_sense.review.runtime import ReviewRuntime


async def review_ctx(app: web.Application) -> AsyncIterator[None]:
    """Create the review queue and unlock items a dead process left accepting."""
    review = ReviewQueue(app[STORE].database, changes=app[DAEMON].changes)
    await review.start()
    app[REVIEW] = ReviewRuntime(review)
    grace = app[DAEMON].config.queue.shutdown_grace_seconds

    async def stop_accepting(_app: web.Application) -> None:
        # On shutdown, before aiohttp waits for open requests: a bulk accept in
        # flight stops taking items instead of holding the shutdown up.
        await review.close(grace)

    app.on_shutdown.append(stop_accepting)
    yield
    await review.close(grace)
