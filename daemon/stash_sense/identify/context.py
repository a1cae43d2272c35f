"""The identification domain's start-up context: face service, results, identify jobs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from stash_sense.config.paths import CROPS_DIR, data_dir
from stash_sense.identify.backfill import Backfill
from stash_sense.identify.job import SceneIdentifier
from stash_sense.identify.runtime import IdentifyRuntime
from stash_sense.identify.service import build_face_service
from stash_sense.identify.store import IdentificationStore
from stash_sense.keys import DAEMON, IDENTIFY, METRICS, QUEUE, STASH, STORE
from stash_sense.lifecycle import background
from stash_sense.scenes import SceneLedger


async def identify_ctx(app: web.Application) -> AsyncIterator[None]:
    """Load the face models in the background; register `identify_scene` and backfill."""
    config = app[DAEMON].config
    db, stash, queue = app[STORE].database, app[STASH].client, app[QUEUE].jobs
    faces = build_face_service(config)
    results = IdentificationStore(
        db,
        data_dir(config) / CROPS_DIR,
        max_crop_bytes=config.faces.crops_max_mb * 1_048_576,
        changes=app[DAEMON].changes,
    )
    ledger = SceneLedger(db)
    identifier = SceneIdentifier(
        stash,
        ledger,
        faces,
        results,
        path_mappings=config.faces.path_mappings,
        api_key=config.stash.api_key,
    )
    registry = app[DAEMON].registry
    registry.register(identifier.job_type())
    registry.register(Backfill(stash, ledger, queue, config.events.reconcile_page_size).job_type())
    app[IDENTIFY] = IdentifyRuntime(faces, results, ledger, identifier)

    async def preload() -> None:
        await faces.load()

    # The engine's stage totals, for /metrics (empty until the first identification).
    app[METRICS].stages.add(faces.stage_samples)
    # Loading a large release takes a while: never delay start-up or the API for it.
    async with background(preload(), "faces-load"):
        yield
    app[METRICS].stages.remove(faces.stage_samples)
    # Waits for an identification still finishing its current stage, off the loop.
    await asyncio.to_thread(faces.close)
