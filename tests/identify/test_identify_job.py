"""Identify jobs end to end: fake Stash, synthetic models, a real release and real videos."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import pytest

from stash_sense.keys import QUEUE
from stash_sense.queue import Job, JobState
from tests.daemons import AUTH, Daemon, DaemonFactory
from tests.faces.kit import ALICE, BOB, Kit, frames_with
from tests.faces.videos import audio_only, garbage, truncate, zero_byte
from tests.fakes.stash.server import FakeStash
from tests.helpers import eventually

NUM_FRAMES = 12


async def finished(daemon: Daemon, job_id: int) -> Job:
    """Wait until a job reaches a final state and return it."""
    store = daemon.app[QUEUE].jobs.store

    async def done() -> bool:
        job = await store.get(job_id)
        return job is not None and not job.state.live

    await eventually(done, timeout=30)
    job = await store.get(job_id)
    assert job is not None
    return job


async def request_identify(daemon: Daemon, scene_id: int, *, force: bool = False) -> int:
    """Ask the API to identify a scene; return the job id."""
    query = "?force=true" if force else ""
    async with daemon.session.post(
        f"{daemon.url}/api/v1/scenes/{scene_id}/identify{query}", headers=AUTH
    ) as resp:
        assert resp.status == 202, await resp.text()
        body = await resp.json()
    assert body["priority"] == 10  # high: a person asked for it
    return int(body["id"])


async def identification(daemon: Daemon, scene_id: int) -> tuple[int, dict[str, Any]]:
    async with daemon.session.get(
        f"{daemon.url}/api/v1/scenes/{scene_id}/identification", headers=AUTH
    ) as resp:
        return resp.status, await resp.json()


async def test_two_performers_are_identified(
    fake_stash: FakeStash, start_daemon: DaemonFactory, face_kit: Kit
) -> None:
    scene = fake_stash.library.add_scene(title="two", path=str(face_kit.video))
    daemon = await start_daemon(fake_stash, faces={"num_frames": NUM_FRAMES})
    job = await finished(daemon, await request_identify(daemon, scene.id))
    assert job.state is JobState.SUCCEEDED, job.last_error
    assert job.progress.message == "2 persons: Alice, Bob"

    status, body = await identification(daemon, scene.id)
    assert status == 200
    persons = {p["best"]["universal_id"]: p for p in body["persons"]}
    assert set(persons) == {ALICE, BOB}
    assert persons[ALICE]["frame_count"] == frames_with("red", NUM_FRAMES)
    assert persons[BOB]["frame_count"] == frames_with("blue", NUM_FRAMES)
    assert persons[ALICE]["best"]["name"] == "Alice"
    assert persons[ALICE]["best"]["endpoint"] == "stashdb.org"
    assert persons[ALICE]["best"]["confidence"] > 0.8
    assert body["unknown_persons"] == 0
    assert body["frames_sampled"] == NUM_FRAMES
    assert set(body["timings_ms"]) >= {"frames", "detect", "embed", "search", "match", "total"}
    assert body["providers"]["detector"] == ["CPUExecutionProvider"]

    # Evidence: crops by id, served as JPEG, with timestamps inside each person's half.
    evidence = persons[BOB]["evidence"]
    assert evidence and all(e["timestamp"] >= 5.0 for e in evidence)
    async with daemon.session.get(f"{daemon.url}{evidence[0]['crop_url']}", headers=AUTH) as resp:
        assert resp.status == 200
        assert resp.content_type == "image/jpeg"
        assert (await resp.read())[:2] == b"\xff\xd8"
    async with daemon.session.get(f"{daemon.url}{evidence[0]['crop_url']}") as resp:
        assert resp.status == 401

    # The same file with the same models again: a no-op; forced: a new identification.
    again = await finished(daemon, await request_identify(daemon, scene.id))
    assert again.progress.message == "already identified with these models"
    assert (await identification(daemon, scene.id))[1]["id"] == body["id"]
    forced = await finished(daemon, await request_identify(daemon, scene.id, force=True))
    assert forced.state is JobState.SUCCEEDED
    newest = (await identification(daemon, scene.id))[1]
    assert newest["id"] != body["id"] and newest["forced"] is True


@pytest.mark.parametrize("mode", ["sequential", "pipelined"])
async def test_streams_from_stash_when_the_file_is_not_local(
    fake_stash_factory: Any, start_daemon: DaemonFactory, face_kit: Kit, caplog: Any, mode: str
) -> None:
    fake: FakeStash = await fake_stash_factory(api_key="stash-secret-key")
    scene = fake.library.add_scene(title="remote", path=str(face_kit.video))
    # Stash's path maps to a folder this daemon does not have: it must stream.
    prefix = str(Path(face_kit.video).parent)
    caplog.set_level(logging.DEBUG)
    daemon = await start_daemon(
        fake,
        faces={"num_frames": 6, "path_mappings": [f"{prefix}=/nowhere/mounted"]},
        stash_api_key="stash-secret-key",
        engine={"mode": mode},  # pipelined: a decoding process streams it, with the key
    )
    job = await finished(daemon, await request_identify(daemon, scene.id))
    assert job.state is JobState.SUCCEEDED, job.last_error
    status, body = await identification(daemon, scene.id)
    assert status == 200
    assert body["source"].startswith(f"the stream of scene {scene.id}")
    assert "apikey=***" in body["source"]
    assert {p["best"]["universal_id"] for p in body["persons"]} == {ALICE, BOB}
    streamed = [c for c in fake.calls if c.operation_name == "FindScene"]
    assert streamed  # the daemon asked Stash where the scene is
    assert "stash-secret-key" not in caplog.text


@pytest.mark.parametrize("mode", ["sequential", "pipelined"])
@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (garbage, "video"),
        (zero_byte, "empty"),
        (audio_only, "no video"),
    ],
)
async def test_bad_videos_fail_clearly_and_the_daemon_keeps_working(
    fake_stash: FakeStash,
    start_daemon: DaemonFactory,
    face_kit: Kit,
    tmp_path: Path,
    *,
    make: Any,
    reason: str,
    mode: str,
) -> None:
    bad = Path(make(tmp_path / "bad.mp4"))
    broken = fake_stash.library.add_scene(title="bad", path=str(bad))
    good = fake_stash.library.add_scene(title="good", path=str(face_kit.video))
    daemon = await start_daemon(fake_stash, faces={"num_frames": 4}, engine={"mode": mode})
    failed = await finished(daemon, await request_identify(daemon, broken.id))
    assert failed.state is JobState.FAILED
    assert failed.attempts == 1  # bad input is permanent: no retries
    assert failed.last_error is not None and failed.last_error.startswith(f"scene {broken.id}: ")
    assert reason in failed.last_error.lower(), failed.last_error
    assert "\n" not in failed.last_error
    ok = await finished(daemon, await request_identify(daemon, good.id))
    assert ok.state is JobState.SUCCEEDED


async def test_truncated_video_still_identifies_what_is_readable(
    fake_stash: FakeStash, start_daemon: DaemonFactory, face_kit: Kit, tmp_path: Path
) -> None:
    cut = tmp_path / "cut.mp4"
    shutil.copy(face_kit.video, cut)
    truncate(cut, 0.5)
    scene = fake_stash.library.add_scene(title="cut", path=str(cut))
    daemon = await start_daemon(fake_stash, faces={"num_frames": 6})
    job = await finished(daemon, await request_identify(daemon, scene.id))
    if job.state is JobState.SUCCEEDED:
        status, body = await identification(daemon, scene.id)
        assert status == 200 and body["frames_sampled"] >= 1
    else:  # nothing decodable: a clear, permanent failure
        assert job.state is JobState.FAILED and job.attempts == 1


async def test_scene_without_file_fails(fake_stash: FakeStash, start_daemon: DaemonFactory) -> None:
    scene = fake_stash.library.add_scene(title="empty", with_file=False)
    daemon = await start_daemon(fake_stash)
    job = await finished(daemon, await request_identify(daemon, scene.id))
    assert (job.state, job.last_error) == (JobState.FAILED, f"scene {scene.id} has no video file")
    status, _ = await identification(daemon, scene.id)
    assert status == 404


async def test_missing_models_fail_jobs_and_show_on_health(
    fake_stash: FakeStash, start_daemon: DaemonFactory, face_kit: Kit, tmp_path: Path
) -> None:
    scene = fake_stash.library.add_scene(title="s", path=str(face_kit.video))
    empty = tmp_path / "no-models"
    empty.mkdir()
    daemon = await start_daemon(fake_stash, faces={"models_dir": str(empty)})
    job = await finished(daemon, await request_identify(daemon, scene.id))
    assert job.state is JobState.FAILED and job.attempts == 1
    assert job.last_error is not None
    assert "det_500m.onnx" in job.last_error and str(empty) in job.last_error
    async with daemon.session.get(f"{daemon.url}/api/v1/health") as resp:
        health = await resp.json()
    assert health["faces"]["ready"] is False
    assert "det_500m.onnx" in health["faces"]["error"]


async def test_release_with_bad_checksum_is_refused(
    fake_stash: FakeStash, start_daemon: DaemonFactory, face_kit: Kit, tmp_path: Path
) -> None:
    release = tmp_path / "face-db"
    shutil.copytree(face_kit.database_dir, release)
    with (release / "face_arcface.voy").open("r+b") as handle:
        handle.seek(200)
        handle.write(b"\x00\x01\x02\x03")
    scene = fake_stash.library.add_scene(title="s", path=str(face_kit.video))
    daemon = await start_daemon(fake_stash, faces={"database_dir": str(release)})
    job = await finished(daemon, await request_identify(daemon, scene.id))
    assert job.state is JobState.FAILED
    assert job.last_error is not None and "face_arcface.voy" in job.last_error
    assert "checksum" in job.last_error.lower() or "sha256" in job.last_error.lower()
