"""The daemon as a real process against a slow fake Stash: SIGTERM mid-bulk, SIGKILL mid-tagging."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from stash_sense.review import ItemFilter, ReviewState
from stash_sense.review.store import NewItem, ReviewStore
from stash_sense.store import Database
from stash_sense.tagging.suggestion import KIND, PerformerSuggestion, payload_json
from tests.faces.kit import ALICE, Kit
from tests.fakes.stash.server import FakeStash
from tests.helpers import TOKEN, eventually

from .test_daemon_process import DaemonProcess

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {TOKEN}"}
GRACE = 1.5
WRITE = "BulkSceneUpdate"
STASHDB = "https://stashdb.org/graphql"
ALICE_ID = ALICE.partition(":")[2]


def configure(daemon: DaemonProcess, stash: FakeStash, face_kit: Kit, mode: str) -> None:
    """Point the subprocess at the fake Stash and the synthetic face kit."""
    daemon.config.write_text(
        f'[server]\nport = {daemon.port}\ntoken = "{TOKEN}"\n'
        f'[stash]\nurl = "{stash.url}"\ncheck_interval_seconds = 1.0\ntimeout_seconds = 120.0\n'
        f'[paths]\ndata_dir = "{daemon.data_dir}"\n'
        f"[queue]\npoll_interval_seconds = 0.05\nshutdown_grace_seconds = {GRACE}\n"
        "retry_base_seconds = 0.1\nretry_max_seconds = 0.5\n"
        f'[faces]\nmodels_dir = "{face_kit.models_dir}"\ndatabase_dir = "{face_kit.database_dir}"\n'
        "num_frames = 12\ndetection_size = 320\n"
        f'[tagging]\nmode = "{mode}"\nauto_min_confidence = 0.5\nauto_min_frames = 5\n'
    )


@pytest.fixture
async def daemon(tmp_path: Path) -> AsyncIterator[DaemonProcess]:
    process = DaemonProcess(tmp_path)
    yield process
    process.stop()


async def test_sigterm_during_a_bulk_accept_leaves_the_rest_pending(
    daemon: DaemonProcess, fake_stash: FakeStash, face_kit: Kit
) -> None:
    configure(daemon, fake_stash, face_kit, "review")
    performer = fake_stash.library.add_performer("Alice", stash_ids=[(STASHDB, ALICE_ID)])
    scenes = [fake_stash.library.add_scene(title=f"s{i}") for i in range(100)]
    db = Database(daemon.data_dir / "stash_sense.db")
    await db.open()
    store = ReviewStore(db)
    for scene in scenes:
        suggestion = PerformerSuggestion(
            ALICE, "Alice", "stashdb.org", ALICE_ID, str(performer.id), 0.9, 9, 1
        )
        await store.upsert(
            NewItem(KIND, scene.id, ALICE, payload_json(suggestion), "f", 0.9), False
        )
    items = [i.id for i in (await store.list(ItemFilter(), limit=1000)).items]
    await db.close()
    assert len(items) == 100
    fake_stash.faults.latency(0.5, duration_s=600, operation=WRITE)  # every write is slow
    daemon.start()
    await daemon.wait_healthy()

    async with aiohttp.ClientSession() as session:
        bulk = asyncio.create_task(
            session.post(
                f"{daemon.url}/api/v1/review/bulk",
                json={"action": "accept", "ids": items},
                headers=AUTH,
            )
        )

        async def some_written() -> bool:
            return fake_stash.faults.injected.count("latency") >= 3

        try:
            await eventually(some_written, timeout=30)
        except AssertionError:
            raise AssertionError(daemon.log()) from None
        assert daemon.proc is not None
        began = time.monotonic()
        daemon.proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(daemon.proc.wait, 60)
        took = time.monotonic() - began
        with contextlib.suppress(aiohttp.ClientError):
            (await bulk).release()  # answered, or cut off by the shutdown
    assert code == 0, daemon.log()
    assert took < GRACE + 2.5, (took, daemon.log())  # not 100 writes of 0.5 s

    db = Database(daemon.data_dir / "stash_sense.db")
    await db.open()
    states = [i.state for i in (await ReviewStore(db).list(ItemFilter(), limit=1000)).items]
    await db.close()
    accepted = states.count(ReviewState.ACCEPTED)
    assert 3 <= accepted < 20
    assert states.count(ReviewState.PENDING) == 100 - accepted  # none stuck "accepting"


async def test_sigkill_between_identification_and_tagging_still_tags(
    daemon: DaemonProcess, fake_stash: FakeStash, face_kit: Kit
) -> None:
    configure(daemon, fake_stash, face_kit, "auto")
    alice = fake_stash.library.add_performer("Alice", stash_ids=[(STASHDB, ALICE_ID)])
    scene = fake_stash.library.add_scene(title="killed", path=str(face_kit.alice_long))
    # The tagging write hangs: the process dies after identifying, before tagging.
    fake_stash.faults.latency(600, count=1, operation=WRITE)
    daemon.start()
    await daemon.wait_healthy()
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{daemon.url}/api/v1/scenes/{scene.id}/identify", headers=AUTH) as resp,
    ):
        assert resp.status == 202

    async def write_hanging() -> bool:
        return fake_stash.faults.injected == ["latency"]

    async def identify_done() -> bool:
        states = [j["state"] for j in await daemon.jobs() if j["type"] == "identify_scene"]
        return states == ["succeeded"]

    await eventually(write_hanging, timeout=60)
    await eventually(identify_done)
    daemon.stop()  # SIGKILL
    assert set(fake_stash.library.scene(scene.id).performer_ids) == set()
    fake_stash.faults.clear()

    daemon.start()
    await daemon.wait_healthy()

    async def tagging_done() -> bool:
        states = [j["state"] for j in await daemon.jobs() if j["type"] == "tag_identification"]
        return states == ["succeeded"]

    await eventually(tagging_done, timeout=60)
    assert set(fake_stash.library.scene(scene.id).performer_ids) == {alice.id}
    identify = [j for j in await daemon.jobs() if j["type"] == "identify_scene"]
    assert len(identify) == 1  # identified once; only the tagging ran again
