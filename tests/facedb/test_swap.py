"""A new release is swapped in while identifications run: running ones finish on the old one."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import numpy as np
import pytest

from stash_sense.config import EngineConfig, FaceDbConfig, FacesConfig
from stash_sense.facedb.installer import Installer
from stash_sense.faces.result import SceneResult
from stash_sense.identify.service import FaceService
from tests.facedb.releases import zip_folder
from tests.faces.kit import ALICE, BOB, Kit
from tests.faces.models import palette_vectors
from tests.faces.release import FacePair, random_performers, write_release

NEW_ALICE = "stashdb.org:aaaaaaaa-0000-4000-8000-00000000000a"
NEW_BOB = "stashdb.org:bbbbbbbb-0000-4000-8000-00000000000b"


def renamed_release(directory: Path) -> Path:
    """A newer release in which the kit's two faces belong to other performer ids."""
    rng = np.random.default_rng(11)

    def faces(colour: str) -> list[FacePair]:
        fn, af = palette_vectors("facenet")[colour], palette_vectors("arcface")[colour]
        return [(fn + rng.normal(0, 0.05, fn.shape), af + rng.normal(0, 0.05, af.shape))] * 3

    performers = {NEW_ALICE: faces("red"), NEW_BOB: faces("blue")}
    performers.update(random_performers(60, 3, seed=9))
    write_release(directory, performers, version="2026.12.01")
    return directory


def named(result: SceneResult) -> set[str]:
    return {p.best.universal_id for p in result.persons if p.best is not None}


@pytest.mark.parametrize("mode", ["sequential", "pipelined"])
async def test_update_while_identify_runs(face_kit: Kit, tmp_path: Path, mode: str) -> None:
    config = FacesConfig(
        models_dir=str(face_kit.models_dir),
        database_dir=str(tmp_path / "face-db"),
        num_frames=12,
        detection_size=320,
    )
    installer = Installer(config, FaceDbConfig(), cache_file=tmp_path / "verified.json")
    await installer.install(await installer.offer(str(face_kit.database_dir)))
    # pipelined: the engine's search process must follow the swap too
    service = FaceService(
        config, cache_file=tmp_path / "verified.json", engine=EngineConfig(mode=mode)
    )
    try:
        assert await service.load()
        assert service.status.database is not None
        assert service.status.database["version"] == "2026.11.01"

        started, proceed = threading.Event(), threading.Event()

        def gate() -> bool:
            # runs in the executor thread (or an engine stage): hold the identification
            started.set()
            proceed.wait(30)
            return False

        running = asyncio.ensure_future(
            service.identify(str(face_kit.video), description="old", cancelled=gate)
        )
        await asyncio.to_thread(started.wait, 30)
        new_zip = zip_folder(renamed_release(tmp_path / "new"), tmp_path / "new.zip")
        installed = await installer.install(await installer.offer(str(new_zip)))
        await service.swap_database(installed.database)
        assert service.status.database["version"] == "2026.12.01"
        proceed.set()
        old = await running
        assert named(old) == {ALICE, BOB}  # started on the old release, finished on it
        new = await service.identify(str(face_kit.video), description="new")
        assert named(new) == {NEW_ALICE, NEW_BOB}
        if service.engine is not None:  # both releases were searched in the search process
            assert service.engine.searcher is not None
            assert service.engine.searcher.fallbacks == 0
    finally:
        proceed.set()
        service.close()
