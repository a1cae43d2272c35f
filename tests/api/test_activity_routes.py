"""Routes behind the activity page: job statistics and the library's identification coverage."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

from stash_sense.config import Config
from stash_sense.config.model import ConcurrencyConfig
from stash_sense.keys import STORE
from stash_sense.scenes import SceneLedger
from tests.daemons import AUTH, Daemon, DaemonFactory
from tests.faces.kit import Kit
from tests.fakes.stash.server import FakeStash
from tests.helpers import daemon_config


def config_with_workers(tmp_path: Path, fake: FakeStash | None, **workers: int) -> Config:
    """A test config whose worker pools are sized as given (0 keeps a pool idle)."""
    config = daemon_config(tmp_path / "data", stash_url=fake.url if fake else None)
    pools = dataclasses.replace(ConcurrencyConfig(), **workers)
    return dataclasses.replace(config, queue=dataclasses.replace(config.queue, concurrency=pools))


async def add_finished_job(
    daemon: Daemon, job_type: str, state: str, seconds: float, finished_at: float
) -> None:
    """Store a finished job that ran for `seconds` (as the queue records one)."""
    await daemon.app[STORE].database.execute(
        "INSERT INTO jobs (type, args, resource, state, max_attempts, run_at, created_at,"
        " updated_at, started_at, finished_at, last_error)"
        " VALUES (?, '{}', 'gpu', ?, 5, ?, ?, ?, ?, ?, ?)",
        (
            job_type,
            state,
            finished_at - seconds,
            finished_at - seconds,
            finished_at,
            finished_at - seconds,
            finished_at,
            "boom" if state == "failed" else None,
        ),
    )


async def get_json(daemon: Daemon, path: str) -> tuple[int, Any]:
    async with daemon.session.get(f"{daemon.url}{path}", headers=AUTH) as resp:
        return resp.status, await resp.json()


async def test_job_stats_count_by_state_and_type_with_recent_means(
    tmp_path: Path, start_daemon: DaemonFactory
) -> None:
    # No workers at all: nothing the test stores is picked up or changed.
    daemon = await start_daemon(config=config_with_workers(tmp_path, None, gpu=0, cpu=0, io=0))
    now = time.time()
    # An old slow run falls out of the recent window once 50 newer ones exist.
    await add_finished_job(daemon, "identify_scene", "succeeded", 500.0, now - 1000)
    for i in range(50):
        await add_finished_job(daemon, "identify_scene", "succeeded", 2.0 + (i % 2), now - i)
    await add_finished_job(daemon, "identify_scene", "failed", 900.0, now)
    await add_finished_job(daemon, "analyzer.run", "cancelled", 1.0, now)

    status, body = await get_json(daemon, "/api/v1/jobs/stats")
    assert status == 200
    identify = body["by_type"]["identify_scene"]
    assert identify == {
        "queued": 0,
        "running": 0,
        "succeeded": 51,
        "failed": 1,
        "cancelled": 0,
    }
    assert body["by_type"]["analyzer.run"]["cancelled"] == 1
    assert body["by_state"]["succeeded"] >= 51 and body["by_state"]["failed"] >= 1
    assert abs(body["mean_seconds"]["identify_scene"] - 2.5) < 1e-6
    # A type with no successful run has no mean.
    assert body["mean_seconds"]["analyzer.run"] is None
    assert body["recent"] == 50
    assert body["workers"] == {"gpu": 0, "cpu": 0, "io": 0}


async def test_coverage_counts_stash_and_ledger_and_estimates(
    tmp_path: Path, fake_stash: FakeStash, start_daemon: DaemonFactory
) -> None:
    scenes = [fake_stash.library.add_scene(title=f"s{i}") for i in range(12)]
    # io=0 keeps the backfill job queued so the route can be seen reporting it.
    daemon = await start_daemon(
        fake_stash, config=config_with_workers(tmp_path, fake_stash, gpu=2, io=0)
    )
    status, body = await get_json(daemon, "/api/v1/scenes/coverage")
    assert status == 200
    assert body["scenes"] == 12 and body["identified"] == 0 and body["never_identified"] == 12
    # No identify_scene job has run yet: the time is unknown.
    assert body["identify_mean_seconds"] is None and body["estimate_seconds"] is None
    assert body["backfill_job"] is None

    ledger = SceneLedger(daemon.app[STORE].database)
    for scene in scenes[:3]:
        await ledger.mark_identified(int(scene.id), f"{scene.id}:x")
    await ledger.mark_identified(999, "999:x")
    await ledger.mark_deleted(999)
    now = time.time()
    for seconds in (4.0, 8.0):
        await add_finished_job(daemon, "identify_scene", "succeeded", seconds, now)
    async with daemon.session.post(f"{daemon.url}/api/v1/scenes/backfill", headers=AUTH) as resp:
        backfill_id = (await resp.json())["id"]

    status, body = await get_json(daemon, "/api/v1/scenes/coverage")
    assert body["scenes"] == 12 and body["identified"] == 3 and body["never_identified"] == 9
    assert body["identify_mean_seconds"] == 6.0 and body["gpu_workers"] == 2
    assert body["estimate_seconds"] == 9 * 6.0 / 2
    assert body["backfill_job"]["id"] == backfill_id
    assert body["backfill_job"]["state"] == "queued"

    # A scene deleted in Stash that the ledger still counts never makes coverage exceed 100%.
    for scene in scenes[3:]:
        fake_stash.library.delete_scene(scene.id)
    status, body = await get_json(daemon, "/api/v1/scenes/coverage")
    assert (body["scenes"], body["identified"], body["never_identified"]) == (3, 3, 0)
    assert body["estimate_seconds"] == 0


async def test_coverage_without_gpu_workers_has_no_estimate(
    tmp_path: Path, fake_stash: FakeStash, start_daemon: DaemonFactory
) -> None:
    fake_stash.library.add_scene(title="one")
    daemon = await start_daemon(
        fake_stash, config=config_with_workers(tmp_path, fake_stash, gpu=0, io=0)
    )
    await add_finished_job(daemon, "identify_scene", "succeeded", 3.0, time.time())
    status, body = await get_json(daemon, "/api/v1/scenes/coverage")
    assert status == 200
    assert body["identify_mean_seconds"] == 3.0
    assert body["gpu_workers"] == 0 and body["estimate_seconds"] is None


async def test_coverage_when_stash_is_down_says_so(
    tmp_path: Path, start_daemon: DaemonFactory, face_kit: Kit
) -> None:
    daemon = await start_daemon(config=config_with_workers(tmp_path, None, io=0))
    status, body = await get_json(daemon, "/api/v1/scenes/coverage")
    assert status == 502
    assert body["error"]["code"] == "upstream_unavailable"
    assert body["error"]["message"]
