"""The `backfill` and `identify` commands."""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from pathlib import Path

from stash_sense.cli_output import column_width, print_error
from stash_sense.config import Config
from stash_sense.config.paths import database_file
from stash_sense.faces.result import SceneResult
from stash_sense.faces.source import resolve_source
from stash_sense.faces.types import FaceError, VideoError
from stash_sense.identify.backfill import BACKFILL, PRIORITY, RESOURCE, BackfillArgs
from stash_sense.identify.daemon_probe import daemon_answers, health_url
from stash_sense.identify.job import universal_id
from stash_sense.identify.service import FaceService, FacesUnavailable, build_face_service
from stash_sense.queue import Job, JobStore
from stash_sense.queue.store import NewJob
from stash_sense.stash.client import StashClient
from stash_sense.stash.errors import StashError
from stash_sense.store import Database, StoreError

_POLL_SECONDS = 1.0
# Ask the daemon whether it still runs every this many polls while following.
_PROBE_EVERY = 5


async def enqueue_backfill(config: Config, *, wait: bool) -> int:
    """Queue the backfill job (once) and optionally follow it; return the exit code.

    Only a running daemon works through the queue: when its health route does not
    answer, say so instead of waiting for a job nothing will start.
    """
    db = Database(database_file(config), busy_timeout_ms=config.store.busy_timeout_ms)
    try:
        await db.open()
    except StoreError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    try:
        store = JobStore(db)
        (result,) = await store.enqueue_many(
            [
                NewJob(
                    type=BACKFILL,
                    args={"priority": BackfillArgs().priority},
                    resource=RESOURCE,
                    priority=PRIORITY,
                    max_attempts=config.queue.max_attempts,
                    idempotency_key=BACKFILL,
                )
            ]
        )
        job = result.job
        verb = "Queued" if result.created else "Already queued"
        print(f"{verb} backfill as job {job.id}; follow it at GET /api/v1/jobs/{job.id}")
        if not await daemon_answers(config):
            print(_no_daemon(config))
            # With --wait nothing would ever finish: fail rather than hang.
            return 1 if wait else 0
        if not wait:
            return 0
        final = await _follow(store, job, config)
        if final is None:
            print(_no_daemon(config))
            return 1
        return 0 if final.state.value == "succeeded" else 1
    finally:
        await db.close(checkpoint=False)


def _no_daemon(config: Config) -> str:
    """Say that the queued job waits for the daemon."""
    return (
        f"No daemon answers at {health_url(config)}: the queued backfill will start "
        "when the daemon runs (`stash-sense run`)."
    )


async def _follow(store: JobStore, job: Job, config: Config) -> Job | None:
    """Print a progress line until the job finishes; None when the daemon stops answering."""
    for poll in itertools.count(1):
        current = await store.get(job.id) or job
        progress = current.progress
        total = progress.total or 0
        width = 30
        filled = int(width * progress.done / total) if total else 0
        bar = "#" * filled + "-" * (width - filled)
        print(
            f"\r[{bar}] {progress.done}/{total or '?'} {progress.message or current.state}",
            end="",
            flush=True,
        )
        if not current.state.live:
            print()
            if current.last_error:
                print(f"{current.state}: {current.last_error}", file=sys.stderr)
            return current
        if poll % _PROBE_EVERY == 0 and not await daemon_answers(config):
            print()
            return None
        await asyncio.sleep(_POLL_SECONDS)
    raise AssertionError("unreachable")


async def identify_command(
    config: Config, *, scene_id: int | None, video: Path | None, as_json: bool
) -> int:
    """Identify one scene (via Stash) or one local file and print the result."""
    # The same face service as the daemon's: same loading, checks and executor.
    faces = build_face_service(config, one_scene=True)
    try:
        try:
            await faces.pipeline()
        except FacesUnavailable as err:
            print_error(str(err), as_json=as_json)
            return 1
        return await _identify(config, faces, scene_id=scene_id, video=video, as_json=as_json)
    finally:
        await asyncio.to_thread(faces.close)


async def _identify(
    config: Config, faces: FaceService, *, scene_id: int | None, video: Path | None, as_json: bool
) -> int:
    """Find the video (a file, or a scene's in Stash), identify it and print the result."""
    headers: dict[str, str] | None = None
    tagged: list[str] = []
    if video is not None:
        location, description = str(video), str(video)
    else:
        assert scene_id is not None
        try:
            async with StashClient(config.stash) as stash:
                scene = await stash.find_scene(scene_id)
        except StashError as err:
            print_error(str(err), as_json=as_json)
            return 1
        if scene is None or scene.primary_file is None:
            print_error(f"scene {scene_id} not found in Stash or has no file", as_json=as_json)
            return 1
        try:
            source = resolve_source(
                scene.primary_file.path, scene.paths.stream, config.faces.path_mappings
            )
        except VideoError as err:
            print_error(str(err), as_json=as_json)
            return 1
        location, description = source.location, source.description
        if config.stash.api_key and not source.is_local:
            headers = {"ApiKey": config.stash.api_key}
        tagged = [
            universal_id(link.endpoint, link.stash_id)
            for performer in scene.performers
            for link in performer.stash_ids
        ]
    try:
        result = await faces.identify(
            location, description=description, http_headers=headers, tagged=tagged
        )
    except FaceError as err:
        print_error(str(err), as_json=as_json)
        return 1
    if as_json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(render_table(result))
    return 0


def render_table(result: SceneResult) -> str:
    """Format a result as a readable table."""
    lines = [
        f"{result.source} ({result.duration:.1f} s)",
        f"{result.frames_sampled}/{result.frames_requested} frames, "
        f"{result.faces_detected} faces detected, {result.faces_kept} kept, "
        f"{len(result.persons)} persons ({len(result.unknown)} unknown)",
        "",
    ]
    rows = []
    for person in result.persons:
        if person.best is not None:
            who = f"{person.best.name} ({person.best.universal_id})"
            confidence = f"{person.best.confidence:.2f}"
            extra = ", ".join(f"{a.name} {a.confidence:.2f}" for a in person.alternatives)
        else:
            who, confidence, extra = "unknown", "-", person.reason
        rows.append((person.index + 1, who, confidence, person.frame_count, extra))
    width = column_width([row[1] for row in rows], "performer")
    lines.append(
        f"{'#':>2}  {'performer':<{width}} {'confidence':>10} {'frames':>6}  alternatives / reason"
    )
    for number, who, confidence, frames, extra in rows:
        lines.append(f"{number:>2}  {who:<{width}} {confidence:>10} {frames:>6}  {extra}")
    stages = ", ".join(f"{k} {v:.0f} ms" for k, v in result.timings_ms.items())
    lines += [
        "",
        f"timings: {stages}",
        f"database {result.database_version}, "
        f"models {result.models_version}, matcher {result.matcher}, "
        f"providers {result.providers}",
    ]
    return "\n".join(lines)
