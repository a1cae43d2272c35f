"""`stash-sense identify --file`: the pipeline without Stash, as users try it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.faces.kit import ALICE, BOB, Kit, frames_with

pytestmark = pytest.mark.slow


def run_cli(
    kit: Kit, tmp_path: Path, *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **(extra_env or {}),
        **os.environ,
        "STASH_SENSE_PATHS__DATA_DIR": str(tmp_path / "data"),
        "STASH_SENSE_FACES__MODELS_DIR": str(kit.models_dir),
        "STASH_SENSE_FACES__DATABASE_DIR": str(kit.database_dir),
        "STASH_SENSE_FACES__NUM_FRAMES": "10",
        "STASH_SENSE_FACES__DETECTION_SIZE": "320",
    }
    return subprocess.run(
        [sys.executable, "-m", "stash_sense", "identify", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=120,
    )


def test_identify_file_json(face_kit: Kit, tmp_path: Path) -> None:
    run = run_cli(face_kit, tmp_path, "--file", str(face_kit.video), "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    frames = {p["best"]["universal_id"]: p["frame_count"] for p in result["persons"]}
    assert frames == {ALICE: frames_with("red", 10), BOB: frames_with("blue", 10)}


def test_identify_file_table(face_kit: Kit, tmp_path: Path) -> None:
    run = run_cli(face_kit, tmp_path, "--file", str(face_kit.video))
    assert run.returncode == 0, run.stderr
    assert "Alice" in run.stdout and "Bob" in run.stdout and "timings:" in run.stdout


def test_bad_file_is_one_line_without_traceback(face_kit: Kit, tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    run = run_cli(face_kit, tmp_path, "--file", str(bad))
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    lines = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, run.stderr


async def test_identify_scene_from_stash(face_kit: Kit, tmp_path: Path, fake_stash: Any) -> None:
    scene = fake_stash.library.add_scene(title="cli", path=str(face_kit.video))
    run = await asyncio.to_thread(
        run_cli,
        face_kit,
        tmp_path,
        str(scene.id),
        extra_env={"STASH_SENSE_STASH__URL": fake_stash.url},
    )
    assert run.returncode == 0, run.stderr
    assert "Alice" in run.stdout and "Bob" in run.stdout
    assert any(c.operation_name == "FindScene" for c in fake_stash.calls)
