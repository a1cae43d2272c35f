"""The Stash connection's start-up context: the client and the monitor that watches Stash."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from stash_sense.keys import DAEMON, QUEUE, STASH
from stash_sense.lifecycle import background
from stash_sense.queue import Capability
from stash_sense.stash.client import StashClient
from stash_sense.stash.monitor import StashMonitor, StashStatus, is_outage
from stash_sense.stash.runtime import StashRuntime


async def stash_ctx(app: web.Application) -> AsyncIterator[None]:
    """Connect to Stash and keep watching it; Stash being down never stops the daemon."""
    config = app[DAEMON].config
    queue = app[QUEUE].jobs
    client = StashClient(config.stash)
    status = StashStatus()
    monitor = StashMonitor(
        client,
        status,
        interval=config.stash.check_interval_seconds,
        on_ready=lambda ready: queue.set_capability(Capability.STASH, ready),
    )
    # A job that cannot reach Stash takes Stash down at once and waits for it.
    queue.add_outage(Capability.STASH, is_outage, monitor.mark_down)
    app[STASH] = StashRuntime(client, status)
    async with background(monitor.run(), "stash-monitor"):
        yield
    await client.close()
