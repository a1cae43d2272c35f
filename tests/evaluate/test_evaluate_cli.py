"""`stash-sense evaluate`: in this process, stored where the daemon reads it, --apply, --sweep."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.evaluate.world import SCENES, Videos, add_library, build_videos
from tests.faces.kit import Kit
from tests.fakes.stash.server import FakeStash

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Videos:
    return build_videos(Path(tmp_path_factory.mktemp("evaluate-cli")))


def run_cli(
    kit: Kit, videos: Videos, tmp_path: Path, stash_url: str, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "STASH_SENSE_STASH__URL": stash_url,
        "STASH_SENSE_PATHS__DATA_DIR": str(tmp_path / "data"),
        "STASH_SENSE_FACES__MODELS_DIR": str(kit.models_dir),
        "STASH_SENSE_FACES__DATABASE_DIR": str(videos.database_dir),
        "STASH_SENSE_FACES__NUM_FRAMES": "8",
        "STASH_SENSE_FACES__DETECTION_SIZE": "320",
    }
    return subprocess.run(
        [sys.executable, "-m", "stash_sense", "evaluate", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=180,
    )


async def test_evaluate_sweeps_and_applies(
    face_kit: Kit, videos: Videos, tmp_path: Path, fake_stash: FakeStash
) -> None:
    library = fake_stash.library
    scenes = add_library(library, videos)
    # Keep only correctly tagged scenes whose performers show: a threshold meets any target.
    for scene, planted in zip(scenes["planted"], SCENES, strict=True):
        if planted.tagged != planted.shows:
            library.delete_scene(scene.id)
    run = await asyncio.to_thread(
        run_cli,
        face_kit,
        videos,
        tmp_path,
        fake_stash.url,
        "--sweep",
        "--apply",
        "--json",
        "--matcher",
        "precision",
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["state"] == "finished"
    assert report["scenes"]["evaluated"] == 2
    names = [v["name"] for v in report["variants"]]
    assert names[0] == "precision"
    assert {"precision min_frames=1", "precision min_margin=0.2"} <= set(names)
    assert "precision cluster_threshold=0.4" in names
    assert "Calibrated threshold" in run.stderr and "Traceback" not in run.stderr
    assert [c for c in fake_stash.calls if c.kind == "mutation"] == []

    with sqlite3.connect(tmp_path / "data" / "stash_sense.db") as db:
        rows = db.execute("SELECT matcher, threshold, evaluation_id FROM calibrations").fetchall()
    assert rows == [("precision", report["recommendation"]["threshold"], report["id"])]

    table = await asyncio.to_thread(
        run_cli, face_kit, videos, tmp_path, fake_stash.url, "--scenes", "1", "--seed", "3"
    )
    assert table.returncode == 0, table.stderr
    assert "Evaluation 2 (finished): 1 scenes evaluated" in table.stdout
    assert "recommended threshold" in table.stdout


def test_bad_matcher_is_one_line(face_kit: Kit, videos: Videos, tmp_path: Path) -> None:
    run = run_cli(face_kit, videos, tmp_path, "http://127.0.0.1:9", "--matcher", "best")
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines() == [
        "error: unknown matcher 'best'; choose one of: clustered_frequency, precision"
    ]
