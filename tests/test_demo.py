"""`scripts/demo` as a newcomer runs it: a real subprocess, its daemon and hook subprocesses."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from stash_sense.identify.store import IdentificationStore
from stash_sense.review import ItemFilter, ReviewState
from stash_sense.review.store import ReviewStore
from stash_sense.store import Database
from stash_sense.writes.audit import AuditLog
from tests.demo.kit import ensure_kit
from tests.faces.kit import ALICE, BOB
from tests.helpers import free_port

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 240.0
SEEDED = 2  # scenes the demo's library starts with; scans add ids from 3 on


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo data folder whose kit is built once, by the demo's own code, for all tests."""
    folder = tmp_path_factory.mktemp("demo")
    ensure_kit(folder / "kit")
    return folder


def _stat(pid: int) -> list[str] | None:
    """Return a process's /proc stat fields after its name (state first), or None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces: the fields follow the last ")".
    return stat.rpartition(")")[2].split()


class Demo:
    """The demo as a subprocess, with its stdout read line by line."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self.seen: set[tuple[int, str]] = set()  # (pid, start time) of every child listed

    async def until(self, text: str, count: int = 1) -> str:
        """Read lines until `count` of them contain `text`; return the last such line."""
        assert self.proc.stdout is not None
        async with asyncio.timeout(TIMEOUT_S):
            while sum(text in line for line in self.lines) < count:
                raw = await self.proc.stdout.readline()
                assert raw, f"the demo ended before printing {text!r}:\n" + "\n".join(self.lines)
                self.lines.append(raw.decode().rstrip("\n"))
        return next(line for line in reversed(self.lines) if text in line)

    async def finish(self) -> int:
        """Read the rest of the output and return the exit status."""
        assert self.proc.stdout is not None
        async with asyncio.timeout(TIMEOUT_S):
            rest = await self.proc.stdout.read()
            self.lines += rest.decode().splitlines()
            return await self.proc.wait()

    def children(self) -> list[int]:
        """Return the ids of the demo's child processes (read from /proc)."""
        found = []
        for entry in Path("/proc").iterdir():
            fields = _stat(int(entry.name)) if entry.name.isdigit() else None
            if fields is not None and int(fields[1]) == self.proc.pid:
                found.append(int(entry.name))
                self.seen.add((int(entry.name), fields[19]))
        return found


StartDemo = Callable[..., Awaitable[Demo]]


@pytest.fixture
async def start_demo() -> AsyncIterator[StartDemo]:
    """Start demos as `scripts/demo` does (python -m tests.demo); kill any left at the end."""
    started: list[Demo] = []

    async def start(*args: str, env: dict[str, str] | None = None) -> Demo:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.demo",
            *args,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        started.append(Demo(proc))
        return started[-1]

    yield start
    for demo in started:
        if demo.proc.returncode is None:
            demo.proc.kill()
            await demo.proc.wait()
        # A failed test must not leave a daemon behind; the start time tells a reused pid.
        for pid, started_at in demo.seen:
            fields = _stat(pid)
            if fields is not None and fields[19] == started_at:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


async def stored_outcomes(data_dir: Path, scene_ids: list[int]) -> dict[int, dict[str, object]]:
    """Read, through the daemon's own stores, what it recorded and applied for each scene."""
    daemon_dir = data_dir / "run" / "daemon"
    db = Database(daemon_dir / "stash_sense.db")
    await db.open()
    try:
        identifications = IdentificationStore(db, daemon_dir / "crops", max_crop_bytes=1)
        audit = AuditLog(db)
        pending = await _review_pending(db, scene_ids)
        found: dict[int, dict[str, object]] = {}
        for scene_id in scene_ids:
            latest = await identifications.latest(scene_id)
            entries = await audit.for_scene(scene_id)
            found[scene_id] = {
                "identified": latest is not None,
                "applied": sorted(
                    uid
                    for e in entries
                    if e.action == "add_performers" and e.status == "applied"
                    for uid in e.universal_ids
                ),
                "pending": sorted(pending.get(scene_id, [])),
            }
        return found
    finally:
        await db.close()


async def _review_pending(db: Database, scene_ids: list[int]) -> dict[int, list[str]]:
    """Return the pending review subjects per scene."""
    page = await ReviewStore(db).list(
        ItemFilter(states=(ReviewState.PENDING,), scene_ids=tuple(scene_ids)), limit=500
    )
    found: dict[int, list[str]] = {}
    for item in page.items:
        found.setdefault(int(item.scene_id or 0), []).append(item.subject)
    return found


async def test_headless_demo_identifies_the_new_scenes_and_exits(
    start_demo: StartDemo, data_dir: Path
) -> None:
    # A user's own settings must not leak in: this Stash URL leads nowhere.
    misleading = {
        "STASH_SENSE_STASH__URL": f"http://127.0.0.1:{free_port()}",
        "STASH_SENSE_TAGGING__MODE": "review",
    }
    demo = await start_demo(
        "--headless", "--scenes", "4", "--data-dir", str(data_dir), env=misleading
    )
    status = await demo.finish()
    output = "\n".join(demo.lines)
    assert status == 0, output
    assert "face kit: reused" in output  # built once by the same code, then reused
    new = [SEEDED + n for n in range(1, 5)]
    for scene_id in new:
        assert f"scene {scene_id} added" in output, output
    # Each clip gives its own outcome: the main performer applied, a brief one for review.
    assert f"scene {new[0]}: Alice applied, Bob waiting for review" in demo.lines
    assert f"scene {new[1]}: Bob applied, Alice waiting for review" in demo.lines
    assert f"scene {new[2]}: Alice and Bob applied" in demo.lines
    assert f"scene {new[3]}: 1 face not in the face database" in demo.lines

    stored = await stored_outcomes(data_dir, new)
    assert stored == {
        new[0]: {"identified": True, "applied": [ALICE], "pending": [BOB]},
        new[1]: {"identified": True, "applied": [BOB], "pending": [ALICE]},
        new[2]: {"identified": True, "applied": [ALICE, BOB], "pending": []},
        new[3]: {"identified": True, "applied": [], "pending": []},
    }
    # The existing library is left to backfill: the demo only identified what the scan added.
    assert (await stored_outcomes(data_dir, [1, 2]))[1]["identified"] is False


def test_the_kit_is_reused_until_the_code_that_draws_it_changes(data_dir: Path) -> None:
    cache = data_dir / "kit"
    kit, built = ensure_kit(cache)
    assert not built and kit.database_dir.is_dir()
    (cache / "kit.stamp").write_text("digest of older kit code", encoding="utf-8")
    kit, built = ensure_kit(cache)
    assert built
    assert all(path.is_file() for path in kit.clips.values())
    assert (kit.database_dir / "manifest.json").is_file()
    assert not [p for p in data_dir.iterdir() if p.name.startswith(".kit-")]  # no staging left


def _alive(pid: int) -> bool:
    """Tell whether a process exists."""
    return _stat(pid) is not None


async def _refused(url: str) -> bool:
    """Tell whether nothing listens at a URL any more."""
    try:
        async with aiohttp.ClientSession() as session, session.get(url) as resp:
            await resp.read()
    except aiohttp.ClientConnectionError:
        return True
    return False


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_demo_serves_the_page_and_stops_cleanly_on_a_signal(
    start_demo: StartDemo, data_dir: Path, sig: signal.Signals
) -> None:
    demo = await start_demo("--data-dir", str(data_dir))
    page = (await demo.until("Stash page:")).split()[2]
    daemon_url = (await demo.until("daemon:       ")).split()[1]
    await demo.until("press Enter")
    async with aiohttp.ClientSession() as session:
        # The host page loads the plugin's UI as installed from the daemon's plugin source.
        async with session.get(page) as resp:
            assert resp.status == 200
            assert "/plugin/stash-sense/ui/main.js" in await resp.text()
        async with session.get(f"{page}plugin/stash-sense/ui/main.js") as resp:
            assert resp.status == 200
        async with session.get(f"{daemon_url}/api/v1/health") as resp:
            health = await resp.json()
        assert health["status"] == "ok" and health["faces"]["ready"], health
    children = demo.children()
    assert children, "the daemon should be a child of the demo"

    if sig == signal.SIGTERM:
        # Stop it in the middle of a scan, with hooks and identifications under way.
        assert demo.proc.stdin is not None
        demo.proc.stdin.write(b"\n")
        await demo.proc.stdin.drain()
        await demo.until(f"scene {SEEDED + 1} added")
        children = sorted({*children, *demo.children()})
    demo.proc.send_signal(sig)
    assert await demo.finish() == 0, "\n".join(demo.lines)
    assert demo.lines[-1] == "stopped"
    for pid in children:
        assert not _alive(pid), f"child {pid} outlived the demo"
    assert await _refused(page) and await _refused(f"{daemon_url}/api/v1/health")
