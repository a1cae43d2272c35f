"""Start-up and shutdown of the installer inside the daemon (an aiohttp cleanup context)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from stash_sense.facedb.installer import Installer
from stash_sense.facedb.runtime import FaceDbRuntime
from stash_sense.facedb.service import FaceDbService
from stash_sense.keys import DAEMON, FACEDB, IDENTIFY

POINTER_POLL_SECONDS = 5.0


async def facedb_ctx(app: web.Application) -> AsyncIterator[None]:
    """Register the install jobs; watch for releases switched by the command line."""
    config = app[DAEMON].config
    faces = app[IDENTIFY].faces
    installer = Installer(config.faces, config.facedb, cache_file=faces.cache_file)
    service = FaceDbService(installer, faces)
    for job_type in service.job_types():
        app[DAEMON].registry.register(job_type)
    app[FACEDB] = FaceDbRuntime(service)
    tasks = [asyncio.create_task(service.watch(POINTER_POLL_SECONDS), name="facedb-watch")]
    if config.facedb.check_interval_hours > 0:
        hours = config.facedb.check_interval_hours
        tasks.append(asyncio.create_task(service.check_every(hours), name="facedb-check"))
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
