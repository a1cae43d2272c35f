"""The real plugin hook script, run by the fake Stash as Stash runs it, feeding the daemon."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from stash_sense.identify import IDENTIFY_SCENE
from stash_sense.queue import JobState
from tests.daemons import Daemon, DaemonFactory
from tests.faces.kit import Kit
from tests.fakes.stash.server import FakeStash
from tests.helpers import TOKEN, eventually, free_port

pytestmark = pytest.mark.slow
SCRIPT = Path(__file__).resolve().parents[2] / "plugin" / "stash_sense_hook.py"


async def run_hook(plugin_input: dict[str, Any], plugin_dir: Path) -> tuple[int, str, str, float]:
    """Run the hook script like Stash: JSON on stdin, stdin closed, stdout read to EOF."""
    began = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(plugin_dir / SCRIPT.name),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate(json.dumps(plugin_input).encode())
    return proc.returncode or 0, out.decode(), err.decode(), time.monotonic() - began


def install_plugin(tmp_path: Path) -> Path:
    """Copy the plugin into a plugins folder, as a user does."""
    plugin_dir = tmp_path / "plugins" / "stash-sense"
    plugin_dir.mkdir(parents=True)
    shutil.copy(SCRIPT, plugin_dir / SCRIPT.name)
    return plugin_dir


async def test_stash_runs_the_hook_and_the_daemon_queues_the_scene(
    fake_stash_factory: Any, start_daemon: DaemonFactory, tmp_path: Path, face_kit: Kit
) -> None:
    plugin_dir = install_plugin(tmp_path)
    fake: FakeStash = await fake_stash_factory(plugin_dir=str(plugin_dir))
    daemon: Daemon = await start_daemon(fake, forward_hooks=False)
    # The user entered the daemon's address and token in Stash's plugin settings.
    fake.library.plugin_settings["stash-sense"] = {"daemonUrl": daemon.url, "daemonToken": TOKEN}
    runs: list[tuple[int, str, str, float]] = []

    async def stash_runs_hook(plugin_input: dict[str, Any]) -> None:
        runs.append(await run_hook(plugin_input, plugin_dir))

    fake.hook_listeners.append(stash_runs_hook)
    video = str(face_kit.video)
    created = await fake.simulate_scan(
        [{"title": "a", "path": video}, {"title": "b", "path": video}]
    )

    assert [r[0] for r in runs] == [0, 0]
    assert [json.loads(r[1])["output"] for r in runs] == ["queued", "queued"]
    assert all(r[2] == "" for r in runs)  # no warnings
    jobs = await daemon.jobs(IDENTIFY_SCENE)
    assert sorted(j.args["scene_id"] for j in jobs) == sorted(s.id for s in created)
    # Settings were looked up in Stash once, then served from the plugin's cache.
    lookups = [c for c in fake.calls if "plugins" in c.query and "configuration" in c.query]
    assert len(lookups) == 1

    async def identified() -> bool:
        return len(await daemon.jobs(IDENTIFY_SCENE, JobState.SUCCEEDED)) == 2

    await eventually(identified)


async def test_hook_with_daemon_down_exits_quickly(fake_stash_factory: Any, tmp_path: Path) -> None:
    plugin_dir = install_plugin(tmp_path)
    fake: FakeStash = await fake_stash_factory(plugin_dir=str(plugin_dir))
    fake.library.plugin_settings["stash-sense"] = {
        "daemonUrl": f"http://127.0.0.1:{free_port()}",
        "daemonToken": TOKEN,
    }
    runs: list[tuple[int, str, str, float]] = []

    async def stash_runs_hook(plugin_input: dict[str, Any]) -> None:
        runs.append(await run_hook(plugin_input, plugin_dir))

    fake.hook_listeners.append(stash_runs_hook)
    await fake.simulate_scan([{"title": "a"}])
    ((code, out, err, elapsed),) = runs
    assert code == 0
    assert json.loads(out) == {"output": "daemon unreachable"}
    assert err.startswith("\x01w\x02") and err.count("\n") == 1
    assert TOKEN not in out + err
    assert elapsed < 1.5
