"""The Stash plugin source: `GET /plugin/index.yml` and the zip beside it, no token needed."""

from __future__ import annotations

import asyncio
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path

from aiohttp import web

from stash_sense import __version__
from stash_sense.api.errors import ApiError
from stash_sense.config.model import ServerConfig
from stash_sense.keys import DAEMON
from stash_sense.plugin_package import (
    ZIP_NAME,
    PluginPackage,
    PluginSourceMissing,
    build,
    find_plugin_dir,
    index_yaml,
    package_date,
)

routes = web.RouteTableDef()
PREFIX = "/plugin/"
INDEX_PATH = f"{PREFIX}index.yml"
ZIP_PATH = f"{PREFIX}{ZIP_NAME}"
STATE_FILE = "plugin-package.json"
_WILDCARD_HOSTS = {"0.0.0.0", "::", ""}  # noqa: S104 - names, not a bind


def public_url(server: ServerConfig) -> str:
    """Return the URL browsers reach the API at: configured, else from host and port."""
    if server.public_url:
        return server.public_url.rstrip("/")
    host = "127.0.0.1" if server.host in _WILDCARD_HOSTS else server.host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{server.port}"


async def _package(request: web.Request) -> tuple[PluginPackage, datetime]:
    """Build the package (off the event loop) and look up its date."""
    config = request.app[DAEMON].config

    def work() -> tuple[PluginPackage, datetime]:
        package = build(
            find_plugin_dir(), version=__version__, public_url=public_url(config.server)
        )
        state = Path(config.paths.data_dir).expanduser() / STATE_FILE
        return package, package_date(state, package.sha256)

    try:
        return await asyncio.to_thread(work)
    except PluginSourceMissing as err:
        raise ApiError(503, "unavailable", f"plugin files not found: {err}") from None


@routes.get(INDEX_PATH)
async def index(request: web.Request) -> web.Response:
    """Answer the package index Stash's plugin manager reads (GET and HEAD)."""
    package, date = await _package(request)
    # Stash re-reads a cached index only when Last-Modified moves past its copy.
    return web.Response(
        text=index_yaml(package, date),
        content_type="application/yaml",
        headers={"Last-Modified": format_datetime(date, usegmt=True)},
    )


@routes.get(ZIP_PATH)
async def package_zip(request: web.Request) -> web.Response:
    """Serve the plugin zip the index points at."""
    package, date = await _package(request)
    return web.Response(
        body=package.zip_bytes,
        content_type="application/zip",
        headers={"Last-Modified": format_datetime(date, usegmt=True)},
    )
