"""The store's start-up context: the database is open for the app's lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from stash_sense.config.paths import database_file
from stash_sense.keys import DAEMON, STORE
from stash_sense.store.database import Database
from stash_sense.store.runtime import StoreRuntime


async def store_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the database (running migrations) and close it last."""
    config = app[DAEMON].config
    db = Database(database_file(config), busy_timeout_ms=config.store.busy_timeout_ms)
    await db.open()
    app[STORE] = StoreRuntime(db)
    yield
    await db.close()
