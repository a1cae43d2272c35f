"""Helpers for analyzer tests: run an analyzer through the API and read its items."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from stash_sense.config import Config
from stash_sense.config.model import AnalyzersConfig
from stash_sense.queue import JobState
from tests.daemons import AUTH, Daemon
from tests.faces.kit import Kit
from tests.fakes.stash.server import FakeStash
from tests.helpers import daemon_config, eventually

BOX = "https://stashdb.org/graphql"


async def call(
    daemon: Daemon, method: str, path: str, status: int, **kwargs: Any
) -> dict[str, Any]:
    """Call the API with the token and check the status."""
    async with daemon.session.request(
        method, f"{daemon.url}{path}", headers=AUTH, **kwargs
    ) as resp:
        body: dict[str, Any] = await resp.json()
        assert resp.status == status, body
        return body


async def run_analyzer(daemon: Daemon, name: str, *, full: bool = False) -> dict[str, Any]:
    """Queue a run through the API and wait until it succeeded; return the job."""
    query = "?full=true" if full else ""
    body = await call(daemon, "POST", f"/api/v1/analyzers/{name}/run{query}", 202)
    job_id = body["job"]["id"]

    async def done() -> bool:
        job = await call(daemon, "GET", f"/api/v1/jobs/{job_id}", 200)
        assert job["state"] not in ("failed", "cancelled"), job
        return bool(job["state"] == JobState.SUCCEEDED.value)

    await eventually(done, timeout=15)
    job: dict[str, Any] = body["job"]
    return job


async def items(daemon: Daemon, kind: str, state: str | None = None) -> list[dict[str, Any]]:
    """List review items of a kind (optionally in one state)."""
    query = f"?kind={kind}&limit=500" + (f"&state={state}" if state else "")
    body = await call(daemon, "GET", f"/api/v1/review/items{query}", 200)
    found: list[dict[str, Any]] = body["items"]
    return found


def config_with(data_dir: Path, fake: FakeStash, kit: Kit, **analyzers: Any) -> Config:
    """Build a daemon config like `start_daemon` does, with `[analyzers]` settings."""
    base = daemon_config(
        data_dir,
        stash_url=fake.url,
        faces={"models_dir": str(kit.models_dir), "database_dir": str(kit.database_dir)},
    )
    return dataclasses.replace(base, analyzers=AnalyzersConfig(**analyzers))
