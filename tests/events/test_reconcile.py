"""Reconciliation: scenes no event announced are found after downtime and dropped sockets."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from stash_sense.events.reconcile import RECONCILE, shift_timestamp
from stash_sense.identify import IDENTIFY_SCENE
from stash_sense.identify.backfill import BACKFILL
from stash_sense.keys import DAEMON, EVENTS, STORE
from stash_sense.queue import JobState
from tests.daemons import AUTH, Daemon, DaemonFactory, stop
from tests.faces.kit import Kit
from tests.fakes.stash.server import FakeStash
from tests.helpers import eventually


async def reconciled(daemon: Daemon) -> None:
    """Wait until a reconcile queued by this daemon's start-up has succeeded."""
    started = daemon.app[DAEMON].started_at

    async def done() -> bool:
        jobs = await daemon.jobs(RECONCILE, JobState.SUCCEEDED)
        return any(j.created_at >= started for j in jobs)

    await eventually(done)


async def identify_ids(daemon: Daemon) -> list[int]:
    return sorted(int(j.args["scene_id"]) for j in await daemon.jobs(IDENTIFY_SCENE))


async def test_first_run_leaves_the_existing_library_to_backfill(
    fake_stash: FakeStash, start_daemon: DaemonFactory
) -> None:
    for i in range(30):
        fake_stash.library.add_scene(title=f"old {i}")
    daemon = await start_daemon(fake_stash)
    await reconciled(daemon)
    assert await identify_ids(daemon) == []
    marks = dict(await daemon.rows("SELECT name, value FROM watermarks"))
    assert marks["reconcile.scene_id"] == "30"


async def test_scenes_added_while_the_daemon_was_down(
    fake_stash: FakeStash, start_daemon: DaemonFactory
) -> None:
    fake_stash.library.add_scene(title="before")
    first = await start_daemon(fake_stash, forward_hooks=False)
    await reconciled(first)
    await stop(first)

    # Hooks off and the daemon stopped: a scan adds 50 scenes nobody hears about.
    created = await fake_stash.simulate_scan(
        [{"title": f"new {i}"} for i in range(50)], hooks=False
    )
    second = await start_daemon(fake_stash, forward_hooks=False)
    await reconciled(second)
    assert await identify_ids(second) == sorted(s.id for s in created)
    # Paging used the configured page size (20): several findScenes pages.
    pages = [c for c in fake_stash.calls if c.operation_name == "FindScenes"]
    assert len(pages) >= 3


async def test_dropped_websocket_mid_scan_still_finds_scenes(
    fake_stash: FakeStash, start_daemon: DaemonFactory
) -> None:
    daemon = await start_daemon(fake_stash, forward_hooks=False)
    await reconciled(daemon)
    await fake_stash.wait_for_subscribers("jobsSubscribe")
    scan = asyncio.create_task(
        fake_stash.simulate_scan([{"title": f"s{i}"} for i in range(50)], hooks=False, delay_s=0.01)
    )
    await asyncio.sleep(0.1)
    await fake_stash.drop_websockets()
    created = await scan
    await eventually(lambda: _all_queued(daemon, [s.id for s in created]), timeout=15)
    assert await identify_ids(daemon) == sorted(s.id for s in created)


async def _all_queued(daemon: Daemon, ids: list[int]) -> bool:
    return await identify_ids(daemon) == sorted(ids)


async def test_scan_completion_triggers_a_reconcile(
    fake_stash: FakeStash, start_daemon: DaemonFactory
) -> None:
    daemon = await start_daemon(fake_stash, forward_hooks=False)
    await reconciled(daemon)
    await fake_stash.wait_for_subscribers("scanCompleteSubscribe")
    before = len(await daemon.jobs(RECONCILE))
    created = await fake_stash.simulate_scan([{"title": "x"}], hooks=False)
    await eventually(lambda: _all_queued(daemon, [s.id for s in created]))
    assert len(await daemon.jobs(RECONCILE)) > before


async def test_changed_primary_file_found_by_polling(
    fake_stash: FakeStash, start_daemon: DaemonFactory, face_kit: Kit
) -> None:
    daemon = await start_daemon(fake_stash)
    (scene,) = await fake_stash.simulate_scan(
        [{"title": "a", "oshash": "aaaaaaaaaaaaaaaa", "path": str(face_kit.video)}]
    )

    async def identified(n: int) -> bool:
        return len(await daemon.jobs(IDENTIFY_SCENE, JobState.SUCCEEDED)) == n

    await eventually(lambda: identified(1))
    await reconciled(daemon)
    # The file changes without any hook (daemon down during the rescan).
    stored = fake_stash.library.scene(scene.id)
    stored.files[0] = fake_stash.library.make_file(
        path=str(face_kit.video), oshash="bbbbbbbbbbbbbbbb"
    )
    fake_stash.library.touch(stored)
    await daemon.app[EVENTS].reconciler.request("test")
    await eventually(lambda: identified(2))


def test_shift_timestamp_keeps_format() -> None:
    assert shift_timestamp("2026-03-29T03:00:00+02:00", -3600) == "2026-03-29T02:00:00+02:00"
    assert shift_timestamp("2026-01-01T00:00:00Z", -1) == "2025-12-31T23:59:59Z"
    assert shift_timestamp("garbage", -1) == "garbage"


async def test_backfill_route_queues_never_identified_scenes(
    fake_stash: FakeStash, start_daemon: DaemonFactory, face_kit: Kit
) -> None:
    for i in range(25):
        fake_stash.library.add_scene(title=f"old {i}", path=str(face_kit.video))
    daemon = await start_daemon(fake_stash, faces={"num_frames": 3})
    await reconciled(daemon)
    async with daemon.session.post(
        f"{daemon.url}/api/v1/scenes/backfill", headers={"Authorization": "Bearer x"}
    ) as resp:
        assert resp.status == 401
    async with daemon.session.post(f"{daemon.url}/api/v1/scenes/backfill", headers=AUTH) as resp:
        assert resp.status == 202
        job_id = (await resp.json())["id"]

    await eventually(lambda: _job_done(daemon, job_id), timeout=20)
    jobs = await daemon.jobs(IDENTIFY_SCENE)
    assert len(jobs) == 25
    assert {j.priority for j in jobs} == {-10}
    # Identified scenes are skipped by a second backfill.
    await eventually(lambda: _succeeded_count(daemon, IDENTIFY_SCENE, 25), timeout=30)
    async with daemon.session.post(f"{daemon.url}/api/v1/scenes/backfill", headers=AUTH) as resp:
        second = (await resp.json())["id"]
    await eventually(lambda: _job_done(daemon, second))
    assert len(await daemon.jobs(IDENTIFY_SCENE)) == 25


async def _succeeded_count(daemon: Daemon, job_type: str, n: int) -> bool:
    return len(await daemon.jobs(job_type, JobState.SUCCEEDED)) == n


async def _job_done(daemon: Daemon, job_id: int) -> bool:
    rows = await daemon.rows("SELECT state FROM jobs WHERE id = ?", job_id)
    return rows == [("succeeded",)]


@pytest.mark.slow
async def test_backfill_cli(tmp_path: Path, start_daemon: DaemonFactory) -> None:
    daemon = await start_daemon()
    data_dir = Path(daemon.app[STORE].database.path).parent
    env_cmd = [sys.executable, "-m", "stash_sense", "backfill"]
    config = tmp_path / "c.toml"
    config.write_text(f'[paths]\ndata_dir = "{data_dir}"\n')
    run = await asyncio.to_thread(
        subprocess.run,
        [*env_cmd, "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "Queued backfill as job" in run.stdout
    (job,) = await daemon.jobs(BACKFILL)
    assert job.priority == -10
    rerun = await asyncio.to_thread(
        subprocess.run,
        [*env_cmd, "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Already queued backfill as job" in rerun.stdout
