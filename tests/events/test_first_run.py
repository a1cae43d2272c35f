"""First start against a library: count the never-identified scenes, offer or queue a backfill."""

from __future__ import annotations

from typing import Any

from tests.daemons import AUTH, Daemon, DaemonFactory, stop
from tests.events.test_reconcile import reconciled
from tests.fakes.stash.server import FakeStash


async def health_library(daemon: Daemon) -> dict[str, Any]:
    async with daemon.session.get(f"{daemon.url}/api/v1/health") as resp:
        body: dict[str, Any] = (await resp.json())["library"]
    return body


def count_calls(fake: FakeStash) -> int:
    return sum(1 for c in fake.calls if c.operation_name == "CountScenes")


async def test_first_start_offers_the_backfill(
    fake_stash: FakeStash, start_daemon: DaemonFactory
) -> None:
    for i in range(30):
        fake_stash.library.add_scene(title=f"old {i}")
    daemon = await start_daemon(fake_stash)
    await reconciled(daemon)
    assert await health_library(daemon) == {
        "never_identified": 30,
        "backfill_offered": True,
        "backfill_job": None,
    }
    assert count_calls(fake_stash) == 1
    assert await daemon.jobs("identify.backfill") == []

    async with daemon.session.post(f"{daemon.url}/api/v1/scenes/backfill", headers=AUTH) as resp:
        job_id = (await resp.json())["id"]
    library = await health_library(daemon)
    assert (library["backfill_offered"], library["backfill_job"]) == (False, job_id)
    async with daemon.session.get(f"{daemon.url}/api/v1/library", headers=AUTH) as resp:
        assert await resp.json() == library

    # a later start is not a first start: no new count, the answer stays
    await stop(daemon)
    again = await start_daemon(fake_stash)
    await reconciled(again)
    assert count_calls(fake_stash) == 1
    assert await health_library(again) == library


async def test_backfill_on_first_run_queues_it(
    fake_stash: FakeStash, start_daemon: DaemonFactory
) -> None:
    for i in range(5):
        fake_stash.library.add_scene(title=f"old {i}")
    daemon = await start_daemon(fake_stash, backfill_on_first_run=True)
    await reconciled(daemon)
    (backfill,) = await daemon.jobs("identify.backfill")
    library = await health_library(daemon)
    assert library == {
        "never_identified": 5,
        "backfill_offered": False,
        "backfill_job": backfill.id,
    }


async def test_an_empty_library_offers_nothing(
    fake_stash: FakeStash, start_daemon: DaemonFactory
) -> None:
    daemon = await start_daemon(fake_stash, backfill_on_first_run=True)
    await reconciled(daemon)
    assert await health_library(daemon) == {
        "never_identified": 0,
        "backfill_offered": False,
        "backfill_job": None,
    }
    assert await daemon.jobs("identify.backfill") == []


async def test_before_the_first_reconcile_nothing_is_known(start_daemon: DaemonFactory) -> None:
    daemon = await start_daemon()  # no Stash reachable
    assert await health_library(daemon) == {
        "never_identified": None,
        "backfill_offered": False,
        "backfill_job": None,
    }
