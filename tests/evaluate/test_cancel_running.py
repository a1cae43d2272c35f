"""A running scene evaluation stops between pipeline stages when its job is cancelled."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from stash_sense.evaluate.calibration import AutoThreshold
from stash_sense.evaluate.jobs import SCENE, EvaluationJobs, SceneArgs
from stash_sense.evaluate.service import EvaluationService
from stash_sense.evaluate.store import EvaluationStore
from stash_sense.identify.service import build_face_service
from stash_sense.queue import JobCancelled, JobContext, JobQueue, JobRegistry, JobStore, Resource
from stash_sense.queue.store import NewJob
from stash_sense.stash.client import StashClient
from stash_sense.store import Database
from tests.evaluate.world import Videos, add_library, build_videos
from tests.faces.kit import Kit
from tests.fakes.stash.server import FakeStash
from tests.helpers import daemon_config


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Videos:
    return build_videos(Path(tmp_path_factory.mktemp("evaluate-cancel")))


async def test_a_cancelled_running_scene_stores_nothing(
    fake_stash: FakeStash, face_kit: Kit, videos: Videos, tmp_path: Path
) -> None:
    add_library(fake_stash.library, videos)
    config = daemon_config(
        tmp_path / "data",
        stash_url=fake_stash.url,
        faces={
            "models_dir": str(face_kit.models_dir),
            "database_dir": str(videos.database_dir),
            "num_frames": 6,
        },
    )
    db = Database(tmp_path / "eval.db")
    await db.open()
    faces = build_face_service(config)
    await faces.pipeline()
    try:
        async with StashClient(config.stash) as stash:
            store = EvaluationStore(db)
            threshold = AutoThreshold(config.tagging, config.faces.matcher, store)
            service = EvaluationService(config, store, stash, faces, threshold)
            queue = JobQueue(JobStore(db), JobRegistry(), config.queue)
            jobs = EvaluationJobs(service, queue)
            run = await service.create(scenes=1, seed=0)
            (scene_id,) = await service.sample(run)

            (enqueued,) = await queue.store.enqueue_many(
                [NewJob(SCENE, {"evaluation_id": run, "scene_id": scene_id}, Resource.GPU, -10, 1)]
            )
            context = JobContext(enqueued.job, queue.store.set_progress)
            context.request_cancel()
            with pytest.raises(JobCancelled):
                await jobs.run_scene(context, SceneArgs(run, scene_id))

            scene = next(s for s in await store.scenes(run) if s.scene_id == scene_id)
            assert (scene.state, scene.reason) == ("cancelled", "cancelled")
            assert await store.predictions(run) == {}
            # The run concluded without the scene, and it is not mistaken for a failure.
            evaluation = await store.get(run)
            assert evaluation is not None and evaluation.state == "finished"
            assert evaluation.report is not None
            assert evaluation.report["scenes"]["evaluated"] == 0
    finally:
        await asyncio.to_thread(faces.close)
        await db.close()
