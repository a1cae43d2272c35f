"""The optional separate metrics listener: only /metrics, without the token."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from stash_sense.keys import DAEMON
from stash_sense.metrics.collect import render
from stash_sense.metrics.text import CONTENT_TYPE

_LOGGER = logging.getLogger(__name__)
METRICS_PATH = "/metrics"


async def respond(app: web.Application) -> web.Response:
    """Answer a scrape of the daemon `app`."""
    body = await render(app)
    return web.Response(body=body.encode(), headers={"Content-Type": CONTENT_TYPE})


async def metrics_ctx(app: web.Application) -> AsyncIterator[None]:
    """Serve /metrics on `[metrics] host:port` too, when a port is set.

    It starts last, once every domain's objects exist, and stops first, so a scrape
    never reads a domain that is shutting down.
    """
    config = app[DAEMON].config.metrics
    if not config.enabled or not config.port:
        yield
        return

    async def scrape(_request: web.Request) -> web.Response:
        return await respond(app)

    # An app of its own: none of the API's routes, middlewares or token reach this port.
    listener = web.Application()
    listener.router.add_get(METRICS_PATH, scrape)
    runner = web.AppRunner(listener, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, config.host, config.port).start()
    except OSError as err:
        # Metrics are secondary: identification keeps running, and /metrics stays on the API.
        _LOGGER.error(
            "Metrics listener cannot bind %s:%d (%s); /metrics is on the API only",
            config.host,
            config.port,
            err,
        )
    else:
        _LOGGER.info("Metrics (no token) on http://%s:%d%s", config.host, config.port, METRICS_PATH)
    try:
        yield
    finally:
        await runner.cleanup()
