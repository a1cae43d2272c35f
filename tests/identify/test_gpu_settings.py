"""The [faces] GPU settings reach the models, and /health shows warm-up and the video decoder."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

from stash_sense.config import FacesConfig
from stash_sense.faces.hwdecode import HardwareDecode, device_problem
from stash_sense.faces.pipeline import FaceModels
from tests.daemons import Daemon, DaemonFactory
from tests.faces.kit import Kit
from tests.faces.models import build_failing_embedder
from tests.fakes.stash.server import FakeStash
from tests.helpers import eventually


async def loaded_faces(daemon: Daemon) -> dict[str, Any]:
    """Wait until the models have loaded or failed; return /health's faces part."""
    faces: dict[str, Any] = {}

    async def settled() -> bool:
        async with daemon.session.get(f"{daemon.url}/api/v1/health") as resp:
            faces.update((await resp.json())["faces"])
        return bool(faces["ready"] or faces["error"])

    await eventually(settled, timeout=30)
    return faces


def test_models_take_the_gpu_settings(face_kit: Kit, tmp_path: Path) -> None:
    config = dataclasses.replace(
        FacesConfig(),
        execution_provider="cpu",
        tensorrt_cache_dir=str(tmp_path / "trt"),
        io_binding="on",
        warm_up=False,
        hardware_decode="off",
    )
    models = FaceModels.load(face_kit.models_dir, config)
    assert models.runtime.cache_dir == tmp_path / "trt"
    sessions = [models.detector.session, models.embedder.facenet, models.embedder.arcface]
    assert [s.io_binding for s in sessions] == [True, True, True]
    assert models.warm_up_ms == {}
    assert models.decoder.hwaccel is None and models.decoder.setting == "off"


def test_warm_up_runs_every_model_at_its_real_shape(face_kit: Kit) -> None:
    config = dataclasses.replace(FacesConfig(), execution_provider="cpu", detection_size=320)
    models = FaceModels.load(face_kit.models_dir, config)
    assert set(models.warm_up_ms) == {"detector", "facenet", "arcface"}
    assert all(ms > 0 for ms in models.warm_up_ms.values())


async def test_health_shows_warm_up_and_decoder(
    fake_stash: FakeStash, start_daemon: DaemonFactory
) -> None:
    daemon = await start_daemon(fake_stash)
    faces = await loaded_faces(daemon)
    assert faces["ready"] is True, faces["error"]
    assert set(faces["warm_up_ms"]) == {"detector", "facenet", "arcface"}
    assert all(ms > 0 for ms in faces["warm_up_ms"].values())
    problem = device_problem(HardwareDecode("cuda", 0))
    if problem is None:
        assert faces["decode"]["mode"] == "cuda"
    else:
        assert faces["decode"] == {"setting": "auto", "mode": "software", "reason": problem}


async def test_health_with_warm_up_and_hardware_decode_off(
    fake_stash: FakeStash, start_daemon: DaemonFactory
) -> None:
    daemon = await start_daemon(fake_stash, faces={"warm_up": False, "hardware_decode": "off"})
    faces = await loaded_faces(daemon)
    assert faces["ready"] is True, faces["error"]
    assert faces["warm_up_ms"] == {}
    assert faces["decode"] == {
        "setting": "off",
        "mode": "software",
        "reason": "hardware_decode is off",
    }


async def test_model_failing_at_warm_up_is_named_on_health(
    fake_stash: FakeStash, start_daemon: DaemonFactory, face_kit: Kit, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    shutil.copytree(face_kit.models_dir, models)
    build_failing_embedder(models / "facenet512.onnx", 160)
    daemon = await start_daemon(fake_stash, faces={"models_dir": str(models)})
    faces = await loaded_faces(daemon)
    assert faces["ready"] is False
    assert faces["error"].startswith("facenet512.onnx: warm-up on a (2,160,160,3) input failed: ")
    assert faces["warm_up_ms"] == {}
