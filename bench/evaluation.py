"""Evaluation costs: the threshold sweep over stored scores, and the pipeline cost per scene.

1. Sweep. ``--scenes`` scenes of stored scores (``--persons`` persons per scene, ``--variants``
   matcher variants, as a ``--sweep`` run stores) are written to a real SQLite file through
   ``EvaluationStore``; then the whole report is built (read every score back, sweep every
   variant, per-scene outcomes), as ``GET /api/v1/evaluations/{id}`` does. Baseline: the same
   curve computed the naive way, recounting every prediction at each of the curve's thresholds.
2. Cost per scene. ``score_scene`` (one pipeline run, both matchers at the configured knobs, or
   every sweep variant) against ``FacePipeline.identify`` on the same clip with the synthetic
   models of ``tests/faces`` (the cost of identifying the scene, which evaluation reuses).

    python bench/evaluation.py                  # 1,000 scenes, 14 variants
    python bench/evaluation.py --scenes 10000
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the model, release and video builders live in tests/faces

from tests.faces.kit import ALICE, BOB, build_kit  # noqa: E402

from stash_sense.config import FacesConfig, TaggingConfig  # noqa: E402
from stash_sense.evaluate.metrics import figures_at, sweep  # noqa: E402
from stash_sense.evaluate.report import build_report  # noqa: E402
from stash_sense.evaluate.scoring import SceneScores, Score, score_scene, variants  # noqa: E402
from stash_sense.evaluate.store import EvaluationStore  # noqa: E402
from stash_sense.evaluate.truth import Candidate  # noqa: E402
from stash_sense.faces.database import FaceDatabase  # noqa: E402
from stash_sense.faces.pipeline import FaceModels, FacePipeline  # noqa: E402
from stash_sense.store import Database  # noqa: E402

OUT = ROOT / "bench" / "out" / "evaluation"


Clocks = tuple[float, float]


def _clocks() -> Clocks:
    """Read wall and process CPU time (the machine may be shared: CPU time is steadier)."""
    return time.perf_counter(), time.process_time()


def _since(began: Clocks) -> Clocks:
    """Return wall and CPU seconds since `began`."""
    wall, cpu = _clocks()
    return wall - began[0], cpu - began[1]


async def sweep_bench(scenes: int, persons: int, variant_count: int) -> list[tuple[str, Clocks]]:
    """Time building a report over stored scores, and the naive per-threshold recount."""
    rng = random.Random(1)
    faces = FacesConfig()
    chosen = variants(faces, ["precision", "clustered_frequency"], sweep=True)[:variant_count]
    with tempfile.TemporaryDirectory() as folder:
        db = Database(Path(folder) / "bench.db")
        await db.open()
        store = EvaluationStore(db)
        settings = {
            "scenes": scenes,
            "seed": 0,
            "matchers": ["precision", "clustered_frequency"],
            "matcher": "precision",
            "sweep": True,
            "target_precision": 0.95,
            "auto_min_frames": TaggingConfig().auto_min_frames,
            "min_confidence": faces.min_confidence,
            "max_distance": faces.max_distance,
            "variants": [v.to_json() for v in chosen],
        }
        run = await store.create(settings)
        truths = {
            scene: frozenset(f"stashdb.org:p{rng.randrange(2000)}" for _ in range(2))
            for scene in range(1, scenes + 1)
        }
        await store.add_scenes(run, [Candidate(s, t, None) for s, t in truths.items()])
        for scene, truth in truths.items():
            people = [*sorted(truth), *(f"stashdb.org:p{rng.randrange(2000)}" for _ in range(9))]
            scores = [
                Score(v.name, p, rng.choice(people), rng.random(), rng.randint(1, 12))
                for v in chosen
                for p in range(persons)
            ]
            await store.save_scene(run, scene, SceneScores(scores, truth, 1.0))
        evaluation = await store.get(run)
        assert evaluation is not None
        began = _clocks()
        report = await build_report(store, evaluation, auto_threshold=0.75)
        full = _since(began)
        began = _clocks()
        stored = await store.predictions(run)
        read = _since(began)
        stored_truths = await store.truths(run)
        main = stored["precision"]
        began = _clocks()
        curve = sweep(main, stored_truths, min_frames=3)
        one_sweep = _since(began)
        began = _clocks()
        for point in curve:
            figures_at(main, stored_truths, point.threshold, min_frames=3)
        naive = _since(began)
        await db.close()
    assert len(report["variants"]) == len(chosen)
    return [
        (f"report: read + sweep {len(chosen)} variants, {scenes} scenes", full),
        (f"of which: read {sum(map(len, stored.values()))} stored scores", read),
        (f"one variant's curve ({len(curve)} points), one pass", one_sweep),
        (f"baseline: one variant's curve, recounted per threshold ({len(curve)})", naive),
    ]


def cost_bench(runs: int) -> list[tuple[str, float]]:
    """Time identify against score_scene on the kit's two-performer clip."""
    kit = build_kit(OUT)
    config = FacesConfig(num_frames=60, detection_size=320)
    models = FaceModels.load(kit.models_dir, config)
    database = FaceDatabase.load(kit.database_dir, verify="never", ef=config.query_ef)
    pipeline = FacePipeline(models, database, config)
    truth = frozenset({ALICE, BOB})
    plain = variants(config, ["precision", "clustered_frequency"], sweep=False)
    swept = variants(config, ["precision", "clustered_frequency"], sweep=True)
    timed: dict[str, list[float]] = {"identify": [], "plain": [], "swept": []}
    pipeline.identify(str(kit.video))  # warm-up
    for _ in range(runs):
        for name, work in (
            ("identify", lambda: pipeline.identify(str(kit.video))),
            ("plain", lambda: score_scene(pipeline, str(kit.video), truth, plain)),
            ("swept", lambda: score_scene(pipeline, str(kit.video), truth, swept)),
        ):
            began = time.perf_counter()
            work()
            timed[name].append(time.perf_counter() - began)
    return [
        ("baseline: identify (60 frames, synthetic models)", statistics.median(timed["identify"])),
        (f"evaluate, {len(plain)} variants", statistics.median(timed["plain"])),
        (f"evaluate --sweep, {len(swept)} variants", statistics.median(timed["swept"])),
    ]


def main() -> None:
    """Run both benchmarks and print markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=1000)
    parser.add_argument("--persons", type=int, default=4)
    parser.add_argument("--variants", type=int, default=14)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"{platform.platform()}, Python {platform.python_version()}\n")
    rows = asyncio.run(sweep_bench(args.scenes, args.persons, args.variants))
    print("| sweep over stored scores | wall s | CPU s |\n|---|---:|---:|")
    for name, (wall, cpu) in rows:
        print(f"| {name} | {wall:.3f} | {cpu:.3f} |")
    if args.runs < 1:
        return
    print("\n| cost per scene | seconds | ratio to identify |\n|---|---:|---:|")
    cost = cost_bench(args.runs)
    for name, seconds in cost:
        print(f"| {name} | {seconds:.3f} | {seconds / cost[0][1]:.2f} |")


if __name__ == "__main__":
    main()
