"""Read every metric from the domains' runtime objects at scrape time.

Nothing here keeps state of its own: gauges come from the store and status objects
as they are now, counters and histograms from what the domains accumulate.
"""

from __future__ import annotations

import time

from aiohttp import web

from stash_sense import __version__
from stash_sense.keys import DAEMON, IDENTIFY, METRICS, QUEUE, STASH, STORE
from stash_sense.metrics.text import Exposition
from stash_sense.queue import JobState, Resource


async def render(app: web.Application) -> str:
    """Return the whole exposition for one scrape."""
    out = Exposition()
    await _daemon(app, out)
    await _queue(app, out)
    _faces(app, out)
    _identify(app, out)
    _stages(app, out)
    return out.text()


async def _daemon(app: web.Application, out: Exposition) -> None:
    """Version, start time, store and Stash health."""
    db = app[STORE].database
    stash = app[STASH].status
    out.gauge(
        "stash_sense_build_info", "Daemon version (always 1).", [({"version": __version__}, 1)]
    )
    out.gauge(
        "stash_sense_start_time_seconds",
        "When the daemon started, in seconds since the epoch.",
        [({}, app[DAEMON].started_at)],
    )
    ok = await db.ping() and db.health.ok
    out.gauge(
        "stash_sense_store_ok", "1 if the database is readable and accepts writes.", [({}, ok)]
    )
    out.gauge(
        "stash_sense_stash_reachable",
        "1 if Stash answered the last check.",
        [({}, stash.reachable)],
    )
    out.gauge(
        "stash_sense_stash_ready",
        "1 if Stash is reachable and its schema fits our operations (jobs needing it run).",
        [({}, stash.ready)],
    )


async def _queue(app: web.Application, out: Exposition) -> None:
    """Jobs by state and type, the wait at the head of each pool, run times and outcomes."""
    daemon, store = app[DAEMON], app[QUEUE].jobs.store
    # An unreadable store leaves its gauges out rather than reporting zeros it never read.
    readable = await app[STORE].database.ping()
    counts = await store.counts_by_type() if readable else {}
    if readable:
        # Registered types with no rows yet show zeros, so series never appear from nowhere.
        for job_type in daemon.registry:
            counts.setdefault(job_type.name, dict.fromkeys(JobState, 0))
    out.gauge(
        "stash_sense_jobs",
        "Jobs in the store by type and state; queued and running are the queue's depth.",
        [
            ({"type": name, "state": state.value}, n)
            for name in sorted(counts)
            for state, n in counts[name].items()
        ],
    )
    now = time.time()
    # The next job in line, not the longest-waiting one: finding that one would read
    # every queued row (~90 ms at 100,000 queued jobs), the head is one index seek.
    due = await store.head_due(now) if readable else {}
    out.gauge(
        "stash_sense_queue_head_wait_seconds",
        "How long the next job in line of each pool has been due (0: none due).",
        [
            ({"resource": r.value}, max(now - due[r], 0.0) if r in due else 0)
            for r in Resource
            if readable
        ],
    )
    pools = daemon.config.queue.concurrency
    out.gauge(
        "stash_sense_workers",
        "Workers per pool.",
        [({"resource": r.value}, getattr(pools, r.value)) for r in Resource],
    )
    stats = store.stats
    out.histogram(
        "stash_sense_job_duration_seconds",
        "Run time of the last attempt of jobs that ended since start, by type.",
        [({"type": name}, snap) for name, snap in stats.durations().items()],
    )
    out.counter(
        "stash_sense_jobs_ended_total",
        "Jobs run to a final state since start, by type and state.",
        [({"type": t, "state": s}, n) for (t, s), n in sorted(stats.ended.items())],
    )
    out.counter(
        "stash_sense_job_retries_total",
        "Failed attempts scheduled to run again since start, by type.",
        [({"type": t}, n) for t, n in sorted(stats.retries.items())],
    )


def _faces(app: web.Application, out: Exposition) -> None:
    """Whether identification is ready, on which providers, with which release and models."""
    status = app[IDENTIFY].faces.status
    database = status.database or {}
    out.gauge(
        "stash_sense_faces_ready", "1 if face models and database are loaded.", [({}, status.ready)]
    )
    out.gauge(
        "stash_sense_face_provider_info",
        "The ONNX Runtime provider each loaded model runs on (always 1).",
        [
            ({"model": model, "provider": providers[0]}, 1)
            for model, providers in sorted(status.providers.items())
            if providers
        ],
    )
    version = database.get("version")
    out.gauge(
        "stash_sense_face_database_info",
        "The face-database release in use (always 1).",
        [({"version": str(version)}, 1)] if version is not None else [],
    )
    out.gauge(
        "stash_sense_face_database_faces",
        "Faces in the release in use.",
        [({}, int(database["face_count"]))] if "face_count" in database else [],
    )
    out.gauge(
        "stash_sense_face_database_performers",
        "Performers in the release in use.",
        [({}, int(database["performer_count"]))] if "performer_count" in database else [],
    )
    out.gauge(
        "stash_sense_face_models_info",
        "Fingerprint of the face models in use (always 1).",
        [({"version": status.models_version}, 1)] if status.models_version else [],
    )


def _identify(app: web.Application, out: Exposition) -> None:
    """Identifications since start: time per stage, frames, faces and persons per scene."""
    totals = app[IDENTIFY].faces.stats.totals()
    out.counter(
        "stash_sense_identify_scenes_total",
        "Identifications finished since start.",
        [({}, totals.scenes)],
    )
    out.counter(
        "stash_sense_identify_frames_total",
        "Frames sampled by identifications finished since start.",
        [({}, totals.frames)],
    )
    out.counter(
        "stash_sense_identify_stage_seconds_total",
        "Time identifications spent in each stage since start (total: the whole run).",
        [({"stage": stage}, seconds) for stage, seconds in totals.stage_seconds.items()],
    )
    out.counter(
        "stash_sense_identify_persons_total",
        "Persons found since start: identified (a performer proposed) or unknown.",
        [({"result": result}, n) for result, n in sorted(totals.persons.items())],
    )
    out.histogram(
        "stash_sense_identify_faces_per_scene",
        "Faces per identified scene: detected, and kept after the size filter.",
        [({"kind": "detected"}, totals.faces_detected), ({"kind": "kept"}, totals.faces_kept)],
    )
    out.histogram(
        "stash_sense_identify_persons_per_scene",
        "Persons per identified scene.",
        [({}, totals.persons_per_scene)],
    )


def _stages(app: web.Application, out: Exposition) -> None:
    """What a pipelined engine's stages did, from the readers it registered."""
    samples = app[METRICS].stages.samples()
    out.counter(
        "stash_sense_stage_busy_seconds_total",
        "Time each engine stage spent working since start.",
        [({"stage": s.stage}, s.busy_seconds) for s in samples],
    )
    out.counter(
        "stash_sense_stage_items_total",
        "Items each engine stage finished since start.",
        [({"stage": s.stage}, s.items) for s in samples],
    )
    out.counter(
        "stash_sense_stage_batches_total",
        "Batches each engine stage ran since start.",
        [({"stage": s.stage}, s.batches) for s in samples],
    )
    out.gauge(
        "stash_sense_stage_queued",
        "Items waiting for each engine stage now.",
        [({"stage": s.stage}, s.queued) for s in samples],
    )
