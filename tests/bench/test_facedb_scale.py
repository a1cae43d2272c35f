"""The full-scale face-database benchmark, run at a tiny scale so that it cannot rot."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from stash_sense.faces.database import FaceDatabase

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "facedb_scale.py"
FACES = 2000


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("facedb_scale", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


def test_bench_measures_a_small_release_end_to_end(tmp_path: Path) -> None:
    command = [
        *(sys.executable, str(SCRIPT), "--faces", str(FACES), "--runs", "2"),
        *("--ef", "10,400", "--data-dir", str(tmp_path), "--json"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)

    assert figures["faces"] == FACES
    assert figures["build_seconds"] > 0  # built now, into the data dir given
    assert (tmp_path / f"facedb-{FACES}" / "manifest.json").is_file()
    first, cached = figures["load"]["first"], figures["load"]["cached"]
    assert (first["hashed"], first["trusted"]) == (5, 0)
    assert (cached["hashed"], cached["trusted"]) == (0, 5)
    assert first["rss_added_mib"] > 0
    assert first["peak_added_mib"] >= first["rss_added_mib"]
    assert len(figures["exact_latency_ms"]) == 2

    by_ef = {r["ef"]: r for r in figures["per_ef"]}
    assert sorted(by_ef) == [10, 400]
    for r in by_ef.values():
        assert len(r["latency_ms"]) == 2
        for key, value in r.items():
            if "recall" in key or key.endswith("_agreement"):
                assert 0.0 <= value <= 1.0, key
    # 2,000 faces at ef 400: the graph search is all but exact, so any misplaced id shows
    wide = by_ef[400]
    assert wide["pipeline_recall10_facenet"] >= 0.99
    assert wide["pipeline_recall10_arcface"] >= 0.99
    assert wide["fused_recall"] >= 0.99
    assert wide["best_distance_agreement"] >= 0.99
    # scene faces are new samples, never vectors of the index
    assert 0.05 < figures["shape"]["own_nearest_median"] < figures["shape"]["other_nearest_median"]


def test_a_cached_release_is_reused_only_for_the_same_world(tmp_path: Path) -> None:
    bench = load_bench()
    world = bench.make_world(FACES, seed=1)
    directory, built = bench.ensure_release(world, tmp_path)
    assert built is not None
    again, rebuilt = bench.ensure_release(bench.make_world(FACES, seed=1), tmp_path)
    assert (again, rebuilt) == (directory, None)

    db = FaceDatabase.load(directory, verify="never")
    bench._check_release(db, *world.database_vectors())  # ids hold the vectors in row order
    other = bench.make_world(FACES, seed=2)
    with pytest.raises(SystemExit, match="does not hold"):
        bench._check_release(db, *other.database_vectors())


def test_the_world_has_the_release_shape() -> None:
    bench = load_bench()
    world = bench.make_world(10_000)
    counts = np.bincount(world.owner)
    assert len(world.owner) == 10_000
    assert len(counts) == world.performers and counts.min() >= 1
    assert np.all(np.diff(world.owner) >= 0)  # each performer's faces are contiguous
    mean = bench.RELEASE_FACES / bench.RELEASE_PERFORMERS
    assert abs(counts.mean() - mean) < 0.05
    facenet, arcface = world.database_vectors()
    # one face's two vectors are different numbers, yet both models agree on who is near
    assert not np.allclose(facenet, arcface)
    for vectors in (facenet, arcface):
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        same = float(np.einsum("ij,ij->i", unit[:-1], unit[1:])[np.diff(world.owner) == 0].mean())
        other = float(np.einsum("ij,ij->i", unit[:-1], unit[1:])[np.diff(world.owner) != 0].mean())
        assert same > other + 0.3
