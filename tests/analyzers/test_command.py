"""`stash-sense analyze`: one analyzer in-process against a fake Stash, with exit codes."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiosqlite

from tests.fakes.stash.server import FakeStash


async def _analyze(config: Path, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "stash_sense",
        "analyze",
        *args,
        "--config",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_analyze_runs_one_analyzer_and_exits_0(fake_stash: FakeStash, tmp_path: Path) -> None:
    scene = fake_stash.library.add_scene(title="Two copies")
    scene.files.append(fake_stash.library.make_file(path="/data/videos/copy.mp4"))
    config = tmp_path / "config.toml"
    config.write_text(
        f'[stash]\nurl = "{fake_stash.url}"\n[paths]\ndata_dir = "{tmp_path / "data"}"\n',
        encoding="utf-8",
    )
    code, out, err = await _analyze(config, "duplicate_scene_files")
    assert code == 0, err
    assert "duplicate_scene_files: full run done: emitted 1" in out
    assert "[##############################] 1/1" in err
    async with aiosqlite.connect(tmp_path / "data" / "stash_sense.db") as db:
        rows = await db.execute_fetchall("SELECT kind, scene_id, state FROM review_items")
    assert list(rows) == [("duplicate_scene_file", scene.id, "pending")]

    code, _, err = await _analyze(config, "no_such_analyzer")
    assert code == 1
    assert err.strip().startswith("error: no analyzer named 'no_such_analyzer'; choose from ")
    assert "\n" not in err.strip() and "duplicate_scene_files" in err
