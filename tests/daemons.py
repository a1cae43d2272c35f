"""Daemons under test: the real app on loopback, wired to a fake Stash whose hooks post to it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from stash_sense.config import Config
from stash_sense.daemon import build_app
from stash_sense.keys import QUEUE, STORE
from stash_sense.queue import Job, JobState
from tests.faces.kit import Kit
from tests.fakes.stash.server import FakeStash
from tests.helpers import TOKEN, daemon_config

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Daemon:
    """A daemon app served on loopback, with helpers to inspect it."""

    app: web.Application
    server: TestServer
    session: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return str(self.server.make_url(""))

    async def post_event(self, context: Any) -> tuple[int, dict[str, Any]]:
        # Serialise ourselves: aiohttp sends no body at all for json=None.
        headers = {**AUTH, "Content-Type": "application/json"}
        async with self.session.post(
            f"{self.url}/api/v1/events/stash", data=json.dumps(context), headers=headers
        ) as resp:
            return resp.status, await resp.json()

    async def jobs(self, job_type: str, *states: JobState) -> list[Job]:
        page = await self.app[QUEUE].jobs.store.list(types=[job_type], states=states, limit=100_000)
        return page.jobs

    async def rows(self, sql: str, *params: Any) -> list[Any]:
        return [tuple(r) for r in await self.app[STORE].database.fetch_all(sql, params)]


DaemonFactory = Callable[..., Awaitable[Daemon]]


@pytest.fixture
async def start_daemon(tmp_path: Path, face_kit: Kit) -> AsyncIterator[DaemonFactory]:
    """Start daemons (sharing one data dir unless told otherwise); stop them at teardown."""
    running: list[Daemon] = []
    fakes: list[FakeStash] = []

    async def start(
        fake: FakeStash | None = None,
        *,
        forward_hooks: bool = True,
        config: Config | None = None,
        faces: dict[str, Any] | None = None,
        stash_api_key: str = "",
        tagging: dict[str, Any] | None = None,
        stashbox: dict[str, Any] | None = None,
        engine: dict[str, Any] | None = None,
        **events: Any,
    ) -> Daemon:
        cfg = config or daemon_config(
            tmp_path / "data",
            stash_url=fake.url if fake else None,
            stash_api_key=stash_api_key,
            events=events,
            tagging=tagging,
            stashbox=stashbox,
            engine=engine,
            faces={
                "models_dir": str(face_kit.models_dir),
                "database_dir": str(face_kit.database_dir),
                **(faces or {}),
            },
        )
        app = build_app(cfg, TOKEN)
        server = TestServer(app, host="127.0.0.1", port=cfg.server.port)
        await server.start_server()
        daemon = Daemon(app, server, aiohttp.ClientSession())
        running.append(daemon)
        if fake is not None and forward_hooks:
            # Like the plugin: Stash runs the hook, which forwards hookContext to us.
            async def forward(plugin_input: dict[str, Any]) -> None:
                await daemon.post_event(plugin_input["args"]["hookContext"])

            fake.hook_listeners.append(forward)
            fakes.append(fake)
        return daemon

    yield start
    for daemon in reversed(running):
        await stop(daemon)
    for fake in fakes:
        # The fake swallows listener errors like Stash does; none may have happened.
        assert not fake.hooks.errors, fake.hooks.errors


async def stop(daemon: Daemon) -> None:
    """Stop one daemon (idempotent)."""
    if not daemon.session.closed:
        await daemon.session.close()
        await daemon.server.close()
