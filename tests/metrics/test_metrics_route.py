"""GET /metrics on the API and on the separate listener, read by a strict parser."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from stash_sense import __version__
from stash_sense.config import Config
from stash_sense.config.model import ConcurrencyConfig, MetricsConfig
from stash_sense.daemon import build_app
from stash_sense.identify import IDENTIFY_SCENE, IdentifySceneArgs
from stash_sense.keys import DAEMON, IDENTIFY, METRICS, QUEUE, STORE
from stash_sense.metrics.stages import StageSample
from stash_sense.metrics.text import CONTENT_TYPE
from stash_sense.queue import JobContext, JobType, PermanentJobError, Priority, Resource
from tests.daemons import AUTH, DaemonFactory
from tests.faces.kit import Kit
from tests.helpers import TOKEN, daemon_config, eventually, free_port
from tests.metrics.exposition import Family, parse, value


@dataclass(frozen=True)
class Noop:
    """Arguments of the test's job types."""

    n: int = 0


@dataclass
class Served:
    """A daemon app on loopback and a client session."""

    app: web.Application
    url: str
    session: aiohttp.ClientSession

    async def scrape(self) -> Families:
        """GET /metrics on the API with the token; check the content type and parse."""
        async with self.session.get(f"{self.url}/metrics", headers=AUTH) as resp:
            assert resp.status == 200, await resp.text()
            assert resp.headers["Content-Type"] == CONTENT_TYPE
            return parse(await resp.text())


Families = dict[str, Family]
Serve = Callable[..., Awaitable[Served]]


def config(tmp_path: Path, *, metrics: MetricsConfig | None = None, **workers: int) -> Config:
    """A test config with sized worker pools (0 keeps a pool idle)."""
    cfg = daemon_config(tmp_path / "data")
    pools = dataclasses.replace(ConcurrencyConfig(), **workers)
    return dataclasses.replace(
        cfg,
        queue=dataclasses.replace(cfg.queue, concurrency=pools),
        metrics=metrics or MetricsConfig(),
    )


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start the real app (after registering extra job types); stop it at teardown."""
    running: list[tuple[TestServer, aiohttp.ClientSession]] = []

    async def start(cfg: Config, job_types: tuple[JobType[Noop], ...] = ()) -> Served:
        app = build_app(cfg, TOKEN)
        for job_type in job_types:
            app[DAEMON].registry.register(job_type)
        server = TestServer(app, host="127.0.0.1", port=cfg.server.port)
        await server.start_server()
        session = aiohttp.ClientSession()
        running.append((server, session))
        return Served(app, str(server.make_url("")).rstrip("/"), session)

    yield start
    for server, session in reversed(running):
        await session.close()
        await server.close()


async def test_scrape_needs_the_token_and_every_sample_has_help_and_type(
    tmp_path: Path, serve: Serve
) -> None:
    daemon = await serve(config(tmp_path))
    async with daemon.session.get(f"{daemon.url}/metrics") as resp:
        assert resp.status == 401
        assert (await resp.json())["error"]["code"] == "unauthorized"
    wrong = {"Authorization": "Bearer not-the-token"}
    async with daemon.session.get(f"{daemon.url}/metrics", headers=wrong) as resp:
        assert resp.status == 401
    families = await daemon.scrape()
    assert value(families, "stash_sense_build_info", version=__version__) == 1
    assert value(families, "stash_sense_store_ok") == 1
    # No Stash listens at the configured URL, and no face models exist in this data dir.
    assert value(families, "stash_sense_stash_reachable") == 0
    assert value(families, "stash_sense_faces_ready") == 0
    assert families["stash_sense_face_database_info"].samples == []
    assert value(families, "stash_sense_workers", resource="gpu") == 1
    assert families["stash_sense_job_duration_seconds"].type == "histogram"


async def test_queue_depth_by_state_and_type_and_head_wait(tmp_path: Path, serve: Serve) -> None:
    # No GPU worker: identify_scene jobs stay queued.
    daemon = await serve(config(tmp_path, gpu=0))
    queue = daemon.app[QUEUE].jobs
    identify = daemon.app[DAEMON].registry.get(IDENTIFY_SCENE)
    for scene in (1, 2, 3):
        await queue.enqueue(identify, IdentifySceneArgs(scene_id=scene))
    await queue.cancel((await queue.enqueue(identify, IdentifySceneArgs(scene_id=4))).job.id)
    # Not yet due: counted as queued, but nobody waits for it yet.
    await queue.enqueue(identify, IdentifySceneArgs(scene_id=5), delay_seconds=3600)
    await asyncio.sleep(0.3)

    families = await daemon.scrape()
    assert value(families, "stash_sense_jobs", type=IDENTIFY_SCENE, state="queued") == 4
    assert value(families, "stash_sense_jobs", type=IDENTIFY_SCENE, state="cancelled") == 1
    assert value(families, "stash_sense_jobs", type=IDENTIFY_SCENE, state="running") == 0
    # A registered type with no job at all still shows its zeros.
    assert value(families, "stash_sense_jobs", type="analyzer.run", state="queued") == 0
    head = "stash_sense_queue_head_wait_seconds"
    assert 0.3 <= value(families, head, resource="gpu") < 60
    assert value(families, head, resource="cpu") == 0
    # A higher-priority job goes to the head of the line: the wait is now its own.
    await queue.enqueue(identify, IdentifySceneArgs(scene_id=6), priority=Priority.HIGH)
    assert value(await daemon.scrape(), head, resource="gpu") < 0.3


async def test_finished_jobs_appear_in_durations_outcomes_and_retries(
    tmp_path: Path, serve: Serve
) -> None:
    attempts: dict[int, int] = {}

    async def nap(_context: JobContext, _args: Noop) -> None:
        await asyncio.sleep(0.2)

    async def boom(_context: JobContext, _args: Noop) -> None:
        raise PermanentJobError("never works")

    async def flaky(context: JobContext, _args: Noop) -> None:
        attempts[context.job.id] = attempts.get(context.job.id, 0) + 1
        if attempts[context.job.id] == 1:
            raise RuntimeError("first attempt fails")

    types = tuple(
        JobType(name, Noop, handler, resource=Resource.CPU)
        for name, handler in (("test.nap", nap), ("test.boom", boom), ("test.flaky", flaky))
    )
    daemon = await serve(config(tmp_path, cpu=2), types)
    queue = daemon.app[QUEUE].jobs
    ids = [(await queue.enqueue(t, Noop())).job.id for t in types]

    async def all_ended() -> bool:
        jobs = [await queue.store.get(i) for i in ids]
        return all(j is not None and not j.state.live for j in jobs)

    await eventually(all_ended)
    families = await daemon.scrape()
    ended = "stash_sense_jobs_ended_total"
    assert value(families, ended, type="test.nap", state="succeeded") == 1
    assert value(families, ended, type="test.boom", state="failed") == 1
    assert value(families, ended, type="test.flaky", state="succeeded") == 1
    assert value(families, "stash_sense_job_retries_total", type="test.flaky") == 1
    histogram = "stash_sense_job_duration_seconds"
    assert value(families, f"{histogram}_count", type="test.nap") == 1
    assert 0.2 <= value(families, f"{histogram}_sum", type="test.nap") < 5
    # 0.2 s falls above the 0.1 s bucket and within the 0.5 s one.
    assert value(families, f"{histogram}_bucket", type="test.nap", le="0.1") == 0
    assert value(families, f"{histogram}_bucket", type="test.nap", le="0.5") == 1
    assert value(families, "stash_sense_jobs", type="test.nap", state="succeeded") == 1


async def test_identification_feeds_stage_times_faces_and_provider(
    start_daemon: DaemonFactory, face_kit: Kit
) -> None:
    daemon = await start_daemon()
    faces = daemon.app[IDENTIFY].faces
    assert await faces.load()
    result = await faces.identify(str(face_kit.video), description="two performers")
    async with daemon.session.get(f"{daemon.url}/metrics", headers=AUTH) as resp:
        families = parse(await resp.text())

    assert value(families, "stash_sense_identify_scenes_total") == 1
    assert value(families, "stash_sense_identify_frames_total") == result.frames_sampled
    stages = {
        labels["stage"]: v
        for _, labels, v in families["stash_sense_identify_stage_seconds_total"].samples
    }
    assert set(stages) == {"frames", "detect", "embed", "search", "match", "evidence", "total"}
    for stage, ms in result.timings_ms.items():
        assert stages[stage] == pytest.approx(ms / 1000)
    assert stages["total"] > 0
    faces_hist = "stash_sense_identify_faces_per_scene"
    assert value(families, f"{faces_hist}_sum", kind="detected") == result.faces_detected
    assert value(families, f"{faces_hist}_sum", kind="kept") == result.faces_kept
    assert value(families, f"{faces_hist}_count", kind="kept") == 1
    assert result.faces_kept > 0
    assert value(families, "stash_sense_identify_persons_per_scene_sum") == len(result.persons)
    identified = len(result.identified)
    assert identified > 0
    assert value(families, "stash_sense_identify_persons_total", result="identified") == identified
    assert value(families, "stash_sense_faces_ready") == 1
    providers = {
        labels["model"]: labels["provider"]
        for _, labels, _v in families["stash_sense_face_provider_info"].samples
    }
    assert providers == {model: names[0] for model, names in result.providers.items()}
    database = faces.status.database
    assert database is not None
    assert value(families, "stash_sense_face_database_info", version=database["version"]) == 1
    assert value(families, "stash_sense_face_database_faces") == database["face_count"]
    assert value(families, "stash_sense_face_database_performers") == database["performer_count"]
    assert value(families, "stash_sense_face_models_info", version=result.models_version) == 1


async def test_engine_stage_readers_are_rendered(tmp_path: Path, serve: Serve) -> None:
    daemon = await serve(config(tmp_path))
    samples = [StageSample("decode", 1.5, 40, 4, 2), StageSample('od"d\nname', 0.25, 3, 1, 0)]
    daemon.app[METRICS].stages.add(lambda: samples)
    families = await daemon.scrape()
    assert value(families, "stash_sense_stage_busy_seconds_total", stage="decode") == 1.5
    assert value(families, "stash_sense_stage_items_total", stage="decode") == 40
    assert value(families, "stash_sense_stage_batches_total", stage="decode") == 4
    assert value(families, "stash_sense_stage_queued", stage="decode") == 2
    assert value(families, "stash_sense_stage_items_total", stage='od"d\nname') == 3


async def test_separate_listener_serves_only_metrics_without_the_token(
    tmp_path: Path, serve: Serve
) -> None:
    port = free_port()
    daemon = await serve(config(tmp_path, metrics=MetricsConfig(host="127.0.0.1", port=port)))
    listener = f"http://127.0.0.1:{port}"
    async with daemon.session.get(f"{listener}/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == CONTENT_TYPE
        families = parse(await resp.text())
    assert value(families, "stash_sense_store_ok") == 1
    for path in ("/api/v1/health", "/api/v1/jobs", "/metrics/", "/"):
        async with daemon.session.get(f"{listener}{path}", headers=AUTH) as resp:
            assert resp.status == 404, path
    # The API's own /metrics still wants the token.
    async with daemon.session.get(f"{daemon.url}/metrics") as resp:
        assert resp.status == 401


async def test_disabled_metrics_are_served_nowhere(tmp_path: Path, serve: Serve) -> None:
    port = free_port()
    daemon = await serve(config(tmp_path, metrics=MetricsConfig(enabled=False, port=port)))
    async with daemon.session.get(f"{daemon.url}/metrics", headers=AUTH) as resp:
        assert resp.status == 404
    with pytest.raises(aiohttp.ClientConnectionError):
        async with daemon.session.get(f"http://127.0.0.1:{port}/metrics"):
            pass


async def test_a_busy_metrics_port_leaves_the_daemon_running(
    tmp_path: Path, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with caplog.at_level(logging.ERROR, logger="stash_sense.metrics.context"):
            daemon = await serve(config(tmp_path, metrics=MetricsConfig(port=port)))
        lines = [r.getMessage() for r in caplog.records if r.name == "stash_sense.metrics.context"]
        assert len(lines) == 1 and f"cannot bind 127.0.0.1:{port}" in lines[0], lines
        families = await daemon.scrape()
        assert value(families, "stash_sense_store_ok") == 1
        assert families["stash_sense_jobs"].samples


async def test_an_unreadable_store_is_reported_not_read_as_zeros(
    tmp_path: Path, serve: Serve
) -> None:
    daemon = await serve(config(tmp_path, gpu=0, cpu=0, io=0))
    await daemon.app[STORE].database.close()
    families = await daemon.scrape()
    assert value(families, "stash_sense_store_ok") == 0
    assert families["stash_sense_jobs"].samples == []
    assert families["stash_sense_queue_head_wait_seconds"].samples == []
    # What lives in memory is still there.
    assert value(families, "stash_sense_build_info", version=__version__) == 1
    assert value(families, "stash_sense_identify_scenes_total") == 0
