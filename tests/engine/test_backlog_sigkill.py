"""SIGKILL mid-backlog: nothing lost, nothing stored twice, no decoding process left behind."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import aiohttp
import pytest

from stash_sense.store import Database
from tests.faces.kit import Kit
from tests.fakes.stash.server import FakeStash
from tests.helpers import TOKEN, eventually
from tests.test_daemon_faults import configure
from tests.test_daemon_process import DaemonProcess

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SCENES = 16


def descendants(pid: int) -> set[int]:
    """The live processes below `pid` (the fork server and the decoding workers)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rpartition(")")[2].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


async def test_sigkill_mid_backlog_resumes_without_loss_or_duplicates(
    tmp_path: Path, fake_stash: FakeStash, face_kit: Kit
) -> None:
    daemon = DaemonProcess(tmp_path)
    configure(daemon, fake_stash, face_kit, "review")
    # More frames per scene than the other daemon tests: a backlog that takes a few seconds.
    text = daemon.config.read_text().replace("num_frames = 12", "num_frames = 40")
    # The engine whatever the cores (auto would run one scene at a time on 2).
    daemon.config.write_text(text + '[engine]\nmode = "pipelined"\n')
    videos = [face_kit.video, face_kit.alice_long]
    scenes = [
        fake_stash.library.add_scene(title=f"s{i}", path=str(videos[i % 2])) for i in range(SCENES)
    ]
    daemon.start()
    try:
        await daemon.wait_healthy()
        async with aiohttp.ClientSession() as session:
            for scene in scenes:
                url = f"{daemon.url}/api/v1/scenes/{scene.id}/identify"
                async with session.post(url, headers=AUTH) as resp:
                    assert resp.status == 202

        async def some_done() -> bool:
            states = [j["state"] for j in await daemon.jobs() if j["type"] == "identify_scene"]
            return states.count("succeeded") >= 2

        await eventually(some_done, timeout=60, interval=0.01)
        assert daemon.proc is not None
        workers = descendants(daemon.proc.pid)
        daemon.stop()  # SIGKILL
        states = await _jobs_from_disk(daemon.data_dir)
        assert states.count("succeeded") < SCENES, "the backlog finished before the kill"
        assert states.count("running") >= 2, "the engine held no scenes at the kill"
        assert workers, "the engine had no decoding processes"

        async def orphans_gone() -> bool:
            return not any(alive(pid) for pid in workers)

        await eventually(orphans_gone, timeout=10)

        daemon.start()
        await daemon.wait_healthy()

        async def all_done() -> bool:
            states = [j["state"] for j in await daemon.jobs() if j["type"] == "identify_scene"]
            return states == ["succeeded"] * SCENES

        await eventually(all_done, timeout=120)
    finally:
        daemon.stop()
    db = Database(daemon.data_dir / "stash_sense.db")
    await db.open()
    try:
        rows = await db.fetch_all("SELECT scene_id FROM identifications", ())
    finally:
        await db.close(checkpoint=False)
    per_scene = Counter(row[0] for row in rows)
    assert per_scene == {scene.id: 1 for scene in scenes}


async def _jobs_from_disk(data_dir: Path) -> list[str]:
    """The identify jobs' states as the killed daemon left them in its store."""
    db = Database(data_dir / "stash_sense.db")
    await db.open()
    try:
        rows = await db.fetch_all("SELECT state FROM jobs WHERE type = 'identify_scene'", ())
    finally:
        await db.close(checkpoint=False)
    return [row[0] for row in rows]
