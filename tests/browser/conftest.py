"""Browser tests: headless Chromium on the fake Stash's page, the plugin installed from the
real daemon's plugin source, and no console error or CSP violation allowed unless a test
says it expects one."""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import yaml
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright

from stash_sense.daemon import build_app
from stash_sense.keys import IDENTIFY, QUEUE
from stash_sense.queue import Job
from tests.daemons import AUTH, Daemon, stop
from tests.faces.kit import ALICE, BOB, Kit
from tests.fakes.stash.library import Performer, StashBoxConfig
from tests.fakes.stash.server import FakeStash
from tests.fakes.stash.ui import HOST_DIR, PLUGIN_ID, UiHost
from tests.fakes.stashbox.server import FakeStashBox
from tests.helpers import TOKEN, daemon_config, eventually

CHROMIUM = os.environ.get("STASH_SENSE_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = os.environ.get("STASH_SENSE_SCREENSHOTS") == "1"
IMAGES_DIR = Path(__file__).resolve().parents[2] / "docs" / "images"


def _require_tools() -> None:
    """Fail (never skip) when the libraries or the browser are missing."""
    if not (HOST_DIR / "node_modules" / "react").is_dir():
        pytest.fail(f"run `npm ci` in {HOST_DIR} first (scripts/test does it)")
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run does it)")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Start one headless Chromium (Debian's) for the whole session."""
    _require_tools()
    async with async_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        await chromium.close()


async def install_plugin(session: aiohttp.ClientSession, source_url: str) -> dict[str, bytes]:
    """Install the plugin as Stash's package manager does: index, zip, sha256, unzip."""
    async with session.get(source_url) as resp:
        assert resp.status == 200, await resp.text()
        index = yaml.safe_load(await resp.text())
    package = next(p for p in index if p["id"] == PLUGIN_ID)
    zip_url = source_url.rsplit("/", 1)[0] + "/" + package["path"]
    async with session.get(zip_url) as resp:
        assert resp.status == 200
        data = await resp.read()
    assert hashlib.sha256(data).hexdigest() == package["sha256"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@dataclass
class Stack:
    """The fake Stash serving the UI, the real daemon, and helpers to seed and inspect."""

    fake: FakeStash
    daemon: Daemon
    kit: Kit
    box: FakeStashBox
    alice: Performer  # in the library; Bob exists only on the stash-box

    @property
    def app(self) -> Any:
        return self.daemon.app

    async def api(self, method: str, path: str, body: Any = None) -> Any:
        """Call the daemon's API with the token; return the JSON body."""
        async with self.daemon.session.request(
            method, f"{self.daemon.url}{path}", json=body, headers=AUTH
        ) as resp:
            assert resp.status < 400, await resp.text()
            return await resp.json()

    def add_scene(self, title: str = "Two performers") -> int:
        """Add a scene whose file is the kit's two-performer video; return its id."""
        return int(self.fake.library.add_scene(title=title, path=str(self.kit.video)).id)

    async def identify(self, scene_id: int, *, force: bool = False, wait: bool = True) -> int:
        """Run a real identify job on a scene through the API; return the job id."""
        query = "?force=true" if force else ""
        job = await self.api("POST", f"/api/v1/scenes/{scene_id}/identify{query}")
        if wait:
            await self.finished(int(job["id"]))
            await self.tagged(scene_id)
        return int(job["id"])

    async def tagged(self, scene_id: int) -> None:
        """Wait until the scene's newest identification was tagged (a job of its own)."""
        results = self.app[IDENTIFY].results

        async def done() -> bool:
            latest = await results.latest(scene_id)
            return latest is None or latest.tagged_at is not None

        await eventually(done, timeout=30)

    async def finished(self, job_id: int) -> Job:
        """Wait until a job is final; return it."""
        store = self.app[QUEUE].jobs.store

        async def done() -> bool:
            job = await store.get(job_id)
            return job is not None and not job.state.live

        await eventually(done, timeout=30)
        job = await store.get(job_id)
        assert job is not None
        return job

    def performers_of(self, scene_id: int) -> set[int]:
        """Return the local performer ids of a scene in the fake Stash."""
        return set(self.fake.library.scene(scene_id).performer_ids)

    def set_plugin_settings(self, **settings: str) -> None:
        """Set the plugin's settings in the fake Stash (what the user types)."""
        self.fake.library.plugin_settings[PLUGIN_ID] = dict(settings)


@pytest.fixture
def daemon_options() -> dict[str, Any]:
    """Extra config sections for the stack's daemon; a test module overrides this."""
    return {}


@pytest_asyncio.fixture(loop_scope="session")
async def stack(
    tmp_path: Path, face_kit: Kit, daemon_options: dict[str, Any]
) -> AsyncIterator[Stack]:
    """Start the fake Stash, a stash-box and the daemon; install the plugin from the daemon."""
    box = await FakeStashBox(api_key="box-key").start()
    box.catalogue.add_performer("Bob", id=BOB.partition(":")[2], disambiguation="the blue one")
    fake = await FakeStash().start()
    fake.library.stash_boxes.append(StashBoxConfig(endpoint=box.graphql_url, api_key="box-key"))
    alice = fake.library.add_performer(
        "Alice", stash_ids=[(box.graphql_url, ALICE.partition(":")[2])]
    )
    config = daemon_config(
        tmp_path / "data",
        stash_url=fake.url,
        server={"cors_origins": [fake.url]},
        faces={
            "models_dir": str(face_kit.models_dir),
            "database_dir": str(face_kit.database_dir),
            "num_frames": 12,
        },
        # The face database says "stashdb.org"; this stash-box lives on loopback.
        stashbox={"endpoint_domains": [f"stashdb.org={box.graphql_url}"]},
        **daemon_options,
    )
    app = build_app(config, TOKEN)
    server = TestServer(app, host="127.0.0.1", port=config.server.port)
    await server.start_server()
    daemon = Daemon(app, server, aiohttp.ClientSession())
    result = Stack(fake, daemon, face_kit, box, alice)
    fake.ui = UiHost(await install_plugin(daemon.session, f"{daemon.url}/plugin/index.yml"))
    result.set_plugin_settings(daemonUrl=daemon.url, daemonToken=TOKEN)
    try:
        yield result
    finally:
        await stop(daemon)
        await fake.stop()
        await box.stop()


@dataclass
class UiPage:
    """A fresh browser page on the fake Stash, recording console errors and CSP violations."""

    page: Page
    base_url: str
    errors: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)

    def expect_errors(self, *patterns: str) -> None:
        """Allow console errors (and CSP violations) matching these regular expressions."""
        self.allowed.extend(patterns)

    async def open(self, path: str) -> Page:
        """Navigate to a Stash path and wait for the shell to render."""
        await self.page.goto(self.base_url + path)
        await self.page.wait_for_selector(".top-nav")
        return self.page

    async def screenshot(self, name: str) -> None:
        """Write docs/images/<name> when STASH_SENSE_SCREENSHOTS=1."""
        if SCREENSHOTS:
            IMAGES_DIR.mkdir(parents=True, exist_ok=True)
            await self.page.screenshot(path=str(IMAGES_DIR / name), full_page=True)

    def unexpected(self, messages: list[str]) -> list[str]:
        return [m for m in messages if not any(re.search(p, m) for p in self.allowed)]


_CSP_LISTENER = """
window.__stashSenseCsp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__stashSenseCsp.push('CSP violation: ' + e.effectiveDirective + ' ' + e.blockedURI);
});
"""


@pytest_asyncio.fixture(loop_scope="session")
async def ui(browser: Browser, stack: Stack) -> AsyncIterator[UiPage]:
    """Open a fresh page; fail the test on any console error or CSP violation it did not expect."""
    context = await browser.new_context(viewport={"width": 1280, "height": 860})
    await context.add_init_script(_CSP_LISTENER)
    page = await context.new_page()
    page.set_default_timeout(10_000)
    result = UiPage(page, stack.fake.url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            result.errors.append(f"console error: {message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: result.errors.append(f"page error: {exc}"))
    try:
        yield result
        violations: list[str] = []
        if not page.is_closed():
            violations = await page.evaluate("window.__stashSenseCsp || []")
        problems = result.unexpected(result.errors + violations)
        assert not problems, "\n".join(problems)
    finally:
        await context.close()
