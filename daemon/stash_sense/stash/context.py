"""The Stash connection's start-up context: the client and the monitor that watches Stash."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from stash_sense.keys import CONFIG, JOB_QUEUE, STASH, STASH_STATUS
from stash_sense.lifecycle import background
from stash_sense.queue import Capability
from stash_sense.stash.client import StashClient
from stash_sense.stash.monitor import StashMonitor, StashStatus, is_outage


async def stash_ctx(app: web.Application) -> AsyncIterator[None]:
    """Connect to Stash and keep watching it; Stash being down never stops the daemon."""
    config = app[CONFIG]
    queue = app[JOB_QUEUE]
    client = StashClient(config.stash)
    status = StashStatus()
    app[STASH] = client
    app[STASH_STATUS] = status
    monitor = StashMonitor(
        client,
        status,
        interval=config.stash.check_interval_seconds,
        on_ready=lambda ready: queue.set_capability(Capability.STASH, ready),
    )
    # A job that cannot reach Stash takes Stash down at once and waits for it.
    queue.add_outage(Capability.STASH, is_outage, monitor.mark_down)
    async with background(monitor.run(), "stash-monitor"):
        yield
    await client.close()
