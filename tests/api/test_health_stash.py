"""Health and Stash-dependent work with Stash up, with an API key, and incompatible."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stash_sense.daemon import build_app
from stash_sense.events.reconcile import RECONCILE
from stash_sense.keys import DAEMON, QUEUE
from stash_sense.queue import JobState
from stash_sense.queue.maintenance import PRUNE_JOBS, PruneJobsArgs
from tests.fakes.stash.sdl import schema_without
from tests.fakes.stash.server import FakeStash
from tests.helpers import TOKEN, daemon_config, eventually, free_port


async def health(client: Any) -> dict[str, Any]:
    resp = await client.get("/api/v1/health")
    assert resp.status == 200
    body: dict[str, Any] = await resp.json()
    return body


async def test_health_with_stash_up(
    aiohttp_client: Any, tmp_path: Path, fake_stash_factory: Any
) -> None:
    fake: FakeStash = await fake_stash_factory(api_key="stash-key-123", version="v0.30.1")
    config = daemon_config(tmp_path / "data", stash_url=fake.url, stash_api_key="stash-key-123")
    client = await aiohttp_client(build_app(config, TOKEN))

    async def ready() -> bool:
        return (await health(client))["status"] == "ok"

    await eventually(ready)
    body = await health(client)
    assert body["stash"]["reachable"] is True
    assert body["stash"]["version"] == "v0.30.1"
    assert body["stash"]["compatible"] is True
    assert body["stash"]["problems"] == []
    assert all(c.api_key_sent for c in fake.calls)


async def test_wrong_api_key_is_reported(
    aiohttp_client: Any, tmp_path: Path, fake_stash_factory: Any
) -> None:
    fake: FakeStash = await fake_stash_factory(api_key="right-key")
    config = daemon_config(tmp_path / "data", stash_url=fake.url, stash_api_key="wrong-key")
    client = await aiohttp_client(build_app(config, TOKEN))

    async def checked() -> bool:
        return (await health(client))["stash"]["checked_at"] is not None

    await eventually(checked)
    body = await health(client)
    assert body["status"] == "degraded"
    assert body["stash"]["reachable"] is False
    assert "401" in body["stash"]["error"] or "key" in body["stash"]["error"].lower()
    assert "wrong-key" not in str(body)


async def test_incompatible_stash_pauses_stash_work(
    aiohttp_client: Any, tmp_path: Path, fake_stash_factory: Any
) -> None:
    fake: FakeStash = await fake_stash_factory(sdl=schema_without("Scene.files"))
    config = daemon_config(tmp_path / "data", stash_url=fake.url)
    client = await aiohttp_client(build_app(config, TOKEN))

    async def compatible_known() -> bool:
        return (await health(client))["stash"]["compatible"] is not None

    await eventually(compatible_known)
    body = await health(client)
    assert body["status"] == "degraded"
    assert body["stash"]["reachable"] is True
    assert body["stash"]["compatible"] is False
    assert any("FindScene" in p and "files" in p for p in body["stash"]["problems"])

    # Stash-dependent jobs wait instead of failing; Stash-free maintenance still runs.
    queue = client.app[QUEUE].jobs
    reconcile = await queue.store.list(types=[RECONCILE])
    assert [j.state for j in reconcile.jobs] == [JobState.QUEUED]
    prune = client.app[DAEMON].registry.get(PRUNE_JOBS)
    job = (await queue.enqueue(prune, PruneJobsArgs())).job

    async def pruned() -> bool:
        got = await queue.store.get(job.id)
        return got is not None and got.state is JobState.SUCCEEDED

    await eventually(pruned)
    again = await queue.store.list(types=[RECONCILE])
    assert [j.state for j in again.jobs] == [JobState.QUEUED]


async def test_stash_coming_up_later_releases_waiting_jobs(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    port = free_port()
    config = daemon_config(tmp_path / "data", stash_url=f"http://127.0.0.1:{port}")
    client = await aiohttp_client(build_app(config, TOKEN))
    assert (await health(client))["stash"]["reachable"] is False
    async with FakeStash(port=port):

        async def reconciled() -> bool:
            page = await client.app[QUEUE].jobs.store.list(
                types=[RECONCILE], states=[JobState.SUCCEEDED]
            )
            return page.total >= 1

        await eventually(reconciled, timeout=15)
        assert (await health(client))["status"] == "ok"
