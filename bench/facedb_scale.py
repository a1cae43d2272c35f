"""The face database at full scale: load time, memory, batch search latency and recall.

A synthetic release shaped like the public one (366,794 faces of 108,001 performers, two
Float32 Cosine 512-d Voyager indices) is written once with the tests' release writer
(``tests/faces/release.py``) into ``data/bench/facedb-<faces>/`` and reused. Everything is
then measured through the daemon's own code:

- load: ``FaceDatabase.load`` in a fresh process, first with an empty checksum cache (every
  file hashed) and then with the cache it wrote (files trusted); seconds and the resident
  memory the loaded release adds (VmRSS after minus before; VmHWM for the peak).
- latency: one batch of 300 scene faces through ``search_faces`` as identification calls it
  (``query_k``, ``facenet_weight``, ``max_distance`` from the default config), median of
  several runs taken round-robin over the ``ef`` values and the baseline: the same call on an
  exact (numpy) index.
- recall: each index's top 10 at ``ef`` against exact cosine search (numpy), for a k=10 query
  and for the pipeline's k=``query_k`` query; and how often the fused candidates, the top
  candidate's performer and its fused distance agree with those of exact search.

The data: each performer has an identity vector (a share of it common to a group of
look-alikes); each face is its identity plus pose noise, and each model sees the face
through its own fixed rotation, with its own noise and a constant offset (real embeddings
are not centred). So FaceNet and ArcFace vectors of one face are correlated but different.
Faces per performer follow a geometric law with the release's mean (3.4). Query faces are new
samples of random performers with a little more noise, like faces cut from a scene; none of
them is in the index.

    python bench/facedb_scale.py                  # full scale; the first run builds (~15 min)
    python bench/facedb_scale.py --faces 20000    # quick look
    python bench/facedb_scale.py --json           # machine-readable
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from stash_sense.config import FacesConfig
from stash_sense.faces.database import FaceDatabase
from stash_sense.faces.search import search_faces

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the release writer lives in tests/faces

from tests.faces.release import write_release  # noqa: E402

Matrix = npt.NDArray[np.float32]

DIM = 512
RELEASE_FACES = 366_794  # the public release v2026.02.18
RELEASE_PERFORMERS = 108_001
DOMAIN = "stashdb.org"
SHAPE_FILE = "bench-shape.json"  # written last: a folder with it holds a complete release
# Bump when the generator changes, so an old cached release is rebuilt instead of measured.
SHAPE_VERSION = 1
GROUP_SIZE = 40  # performers sharing a look-alike component
GROUP_SHARE = 0.35  # squared share of the identity that is the group's
POSE_NOISE = 0.75  # norm of a face's deviation from its identity (identity norm 1)
QUERY_NOISE = 0.85  # scene faces are worse than the release's curated images
MODEL_NOISE = 0.35  # what one model sees that the other does not
OFFSET = 0.3  # norm of each model's constant offset
DISTANCE_TOLERANCE = 1e-4  # fused distances this close count as the same
CHUNK = 32_768  # faces generated per step: bounds the temporaries


# --------------------------------------------------------------------------------------------
# The synthetic world


@dataclass(frozen=True)
class World:
    """Performers, their faces and how each model sees a face; a function of (faces, seed)."""

    faces: int
    seed: int
    identities: Matrix  # (performers, 512), unit norm
    owner: npt.NDArray[np.int64]  # (faces,) performer of each face, contiguous per performer
    rotations: tuple[Matrix, Matrix]  # facenet, arcface: orthogonal 512x512
    offsets: tuple[Matrix, Matrix]  # facenet, arcface: (512,)

    @property
    def performers(self) -> int:
        return len(self.identities)

    def uid(self, performer: int) -> str:
        return f"{DOMAIN}:perf-{performer:06d}"

    def shape(self) -> dict[str, Any]:
        return {
            "version": SHAPE_VERSION,
            "faces": self.faces,
            "performers": self.performers,
            "seed": self.seed,
        }

    def views(
        self, performers: npt.NDArray[np.int64], noise: float, rng: np.random.Generator
    ) -> tuple[Matrix, Matrix]:
        """Return new (facenet, arcface) vectors of one face of each given performer."""
        pose = _spherical(rng, len(performers)) * np.float32(noise)
        latent = self.identities[performers] + pose
        out: list[Matrix] = []
        for rotation, offset in zip(self.rotations, self.offsets, strict=True):
            seen = latent @ rotation + _spherical(rng, len(performers)) * np.float32(MODEL_NOISE)
            out.append(np.ascontiguousarray(seen + offset, dtype=np.float32))
        return out[0], out[1]

    def database_vectors(self) -> tuple[Matrix, Matrix]:
        """Return the release's (facenet, arcface) vectors in position order."""
        facenet = np.empty((self.faces, DIM), np.float32)
        arcface = np.empty((self.faces, DIM), np.float32)
        for number, start in enumerate(range(0, self.faces, CHUNK)):
            # one generator per chunk: the same vectors whatever reads them
            rng = np.random.default_rng([self.seed, 2, number])
            stop = min(start + CHUNK, self.faces)
            facenet[start:stop], arcface[start:stop] = self.views(
                self.owner[start:stop], POSE_NOISE, rng
            )
        return facenet, arcface


def make_world(faces: int, seed: int = 1) -> World:
    """Draw the performers and how many faces each has; cheap (no face vectors)."""
    if faces < 1:
        raise ValueError("faces must be at least 1")
    rng = np.random.default_rng([seed, 1])
    mean = RELEASE_FACES / RELEASE_PERFORMERS
    performers = max(1, round(faces / mean))
    counts = rng.geometric(1 / mean, performers).astype(np.int64)
    # adjust a few performers so the total is exactly `faces`, keeping everyone at one or more
    while (excess := int(counts.sum()) - faces) != 0:
        if excess > 0:
            many = np.flatnonzero(counts > 1)
            pick = rng.choice(many, size=min(excess, len(many)), replace=False)
            counts[pick] -= 1
        else:
            counts[rng.choice(performers, size=-excess, replace=True)] += 1
    owner = np.repeat(np.arange(performers, dtype=np.int64), counts)

    groups = max(1, performers // GROUP_SIZE)
    group_of = rng.integers(0, groups, performers)  # groups interleave in insertion order
    group_vectors = _spherical(rng, groups)
    own = _spherical(rng, performers)
    identities = (
        np.float32(np.sqrt(GROUP_SHARE)) * group_vectors[group_of]
        + np.float32(np.sqrt(1 - GROUP_SHARE)) * own
    )
    identities /= np.linalg.norm(identities, axis=1, keepdims=True)

    rotations = tuple(_rotation(rng) for _ in range(2))
    offsets = tuple(_spherical(rng, 1)[0] * np.float32(OFFSET) for _ in range(2))
    return World(
        faces=faces,
        seed=seed,
        identities=identities.astype(np.float32),
        owner=owner,
        rotations=(rotations[0], rotations[1]),
        offsets=(offsets[0], offsets[1]),
    )


def _spherical(rng: np.random.Generator, count: int) -> Matrix:
    """Return `count` random directions in 512-d, each of norm 1."""
    vectors = rng.standard_normal((count, DIM), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def _rotation(rng: np.random.Generator) -> Matrix:
    q, r = np.linalg.qr(rng.standard_normal((DIM, DIM)))
    return (q * np.sign(np.diag(r))).astype(np.float32)


# --------------------------------------------------------------------------------------------
# The release on disk


def ensure_release(world: World, data_dir: Path) -> tuple[Path, float | None]:
    """Write the world's release once into data_dir/facedb-<faces>; return it and build seconds."""
    directory = data_dir / f"facedb-{world.faces}"
    marker = directory / SHAPE_FILE
    if marker.is_file() and json.loads(marker.read_text()) == world.shape():
        return directory, None
    partial = data_dir / f"facedb-{world.faces}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    began = time.perf_counter()
    facenet, arcface = world.database_vectors()
    starts = np.searchsorted(world.owner, np.arange(world.performers + 1))
    performers = {
        world.uid(p): list(
            zip(facenet[starts[p] : starts[p + 1]], arcface[starts[p] : starts[p + 1]], strict=True)
        )
        for p in range(world.performers)
    }
    del facenet, arcface
    # all cores: two 367K-vector graphs take minutes each; the graph's exact shape is not the point
    write_release(partial, performers, version="bench", num_threads=-1)
    (partial / SHAPE_FILE).write_text(json.dumps(world.shape()))
    shutil.rmtree(directory, ignore_errors=True)
    os.replace(partial, directory)
    return directory, time.perf_counter() - began


# --------------------------------------------------------------------------------------------
# Load time and memory, each in a fresh process


def probe_load(directory: Path, cache_file: Path) -> dict[str, Any]:
    """Load the release once in this process and say what it cost."""
    before = _proc_status()
    began = time.perf_counter()
    db = FaceDatabase.load(directory, verify="auto", cache_file=cache_file)
    seconds = time.perf_counter() - began
    after = _proc_status()
    return {
        "seconds": seconds,
        "hashed": len(db.verification.hashed),
        "trusted": len(db.verification.trusted),
        "rss_added_mib": (after["VmRSS"] - before["VmRSS"]) / 1024,
        "peak_added_mib": (after["VmHWM"] - before["VmRSS"]) / 1024,
        "faces": db.face_count,
        "storage": db.storage_types,
    }


def _proc_status() -> dict[str, int]:
    """Return VmRSS and VmHWM of this process in KiB (Linux)."""
    values: dict[str, int] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def measure_loads(directory: Path) -> dict[str, dict[str, Any]]:
    """Load in two fresh processes: with an empty checksum cache, then with the one it wrote."""
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        cache = Path(scratch) / "checksums.json"
        for name in ("first", "cached"):
            command = [sys.executable, __file__, "--probe-load", str(directory), str(cache)]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"load probe failed: {done.stderr.strip()[-500:]}")
            results[name] = json.loads(done.stdout)
    return results


# --------------------------------------------------------------------------------------------
# Exact search, the baseline


class ExactIndex:
    """Brute-force cosine search with numpy, answering `query` as a Voyager index does."""

    def __init__(self, vectors: Matrix) -> None:
        self.unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        self.num_elements = len(vectors)

    def query(self, vectors: Matrix, k: int) -> tuple[npt.NDArray[np.uint64], Matrix]:
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        similarity = unit @ self.unit.T
        top = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        picked = np.take_along_axis(similarity, top, axis=1)
        order = np.argsort(-picked, axis=1, kind="stable")
        ids = np.take_along_axis(top, order, axis=1)
        distance = 1.0 - np.take_along_axis(picked, order, axis=1)
        return ids.astype(np.uint64), distance.astype(np.float32)


def overlap(found: npt.NDArray[Any], truth: npt.NDArray[Any], k: int) -> float:
    """Return mean |found[:k] ∩ truth[:k]| / k over rows."""
    hits = [
        len(set(a[:k].tolist()) & set(b[:k].tolist())) for a, b in zip(found, truth, strict=True)
    ]
    return sum(hits) / (k * len(hits))


# --------------------------------------------------------------------------------------------
# Search: latency and recall per ef


@dataclass
class EfResult:
    """Figures of one query_ef."""

    ef: int
    latency_ms: list[float]
    recall10_facenet: float  # k=10 query
    recall10_arcface: float
    pipeline_recall10_facenet: float  # k=query_k query, its first 10
    pipeline_recall10_arcface: float
    pipeline_recall_k_facenet: float  # k=query_k query, all of it
    pipeline_recall_k_arcface: float
    fused_recall: float  # search_faces candidates against those of exact search
    top_performer_agreement: float  # first candidate's performer as with exact search
    best_distance_agreement: float  # first candidate's fused distance as with exact search


def search_kwargs(config: FacesConfig) -> dict[str, Any]:
    """Return search_faces arguments as identification passes them (faces/pipeline.py)."""
    return {
        "k": config.query_k,
        "facenet_weight": config.facenet_weight,
        "max_distance": config.max_distance,
        "max_results": max(2 * config.top_k, 10),
    }


def timed_searches(
    db: FaceDatabase,
    exact: FaceDatabase,
    queries: tuple[Matrix, Matrix],
    kwargs: dict[str, Any],
    *,
    efs: Sequence[int],
    runs: int,
) -> tuple[list[float], dict[int, list[float]], dict[int | None, list[list[Any]]]]:
    """Time search_faces round-robin over exact and each ef; return ms and each one's result.

    Round-robin, so that load from elsewhere on the machine falls on every variant alike.
    """
    exact_ms: list[float] = []
    per_ef: dict[int, list[float]] = {ef: [] for ef in efs}
    results: dict[int | None, list[list[Any]]] = {}
    for _ in range(runs):
        for ef in [None, *efs]:
            if ef is not None:
                db.facenet_index.ef = db.arcface_index.ef = ef
            began = time.perf_counter()
            results[ef] = search_faces(exact if ef is None else db, *queries, **kwargs)
            elapsed = (time.perf_counter() - began) * 1000
            (exact_ms if ef is None else per_ef[ef]).append(elapsed)
    return exact_ms, per_ef, results


def measure_search(
    db: FaceDatabase,
    exact: FaceDatabase,
    queries: tuple[Matrix, Matrix],
    config: FacesConfig,
    *,
    efs: Sequence[int],
    runs: int,
) -> tuple[list[float], list[EfResult]]:
    """Time the fused batch search and compare its neighbours with exact search, per ef."""
    facenet, arcface = queries
    kwargs = search_kwargs(config)
    k = min(config.query_k, db.face_count)
    small = min(10, db.face_count)
    truth = {
        name: exact_index.query(vectors, k)[0]
        for name, exact_index, vectors in (
            ("facenet", exact.facenet_index, facenet),
            ("arcface", exact.arcface_index, arcface),
        )
    }
    baseline_ms, latencies, found_by = timed_searches(
        db, exact, queries, kwargs, efs=efs, runs=runs
    )
    exact_result = found_by[None]
    results: list[EfResult] = []
    for ef in efs:
        for index in (db.facenet_index, db.arcface_index):
            index.ef = ef
        latency, found = latencies[ef], found_by[ef]
        recall: dict[str, float] = {}
        for name, index, vectors in (
            ("facenet", db.facenet_index, facenet),
            ("arcface", db.arcface_index, arcface),
        ):
            ids_small = np.asarray(index.query(vectors, k=small)[0])
            ids_k = np.asarray(index.query(vectors, k=k)[0])
            recall[f"recall10_{name}"] = overlap(ids_small, truth[name], small)
            recall[f"pipeline_recall10_{name}"] = overlap(ids_k, truth[name], small)
            recall[f"pipeline_recall_k_{name}"] = overlap(ids_k, truth[name], k)
        fused_hits = 0
        fused_total = 0
        same_top = 0
        same_best = 0
        for mine, theirs in zip(found, exact_result, strict=True):
            want = {c.face_index for c in theirs}
            fused_hits += len(want & {c.face_index for c in mine})
            fused_total += len(want)
            same_top += (mine[0].universal_id if mine else None) == (
                theirs[0].universal_id if theirs else None
            )
            # a face one index missed gets the missing-model penalty: same performer, worse score
            # (Voyager's float32 distances differ from numpy's in the last bits)
            if mine and theirs:
                same_best += abs(mine[0].distance - theirs[0].distance) < DISTANCE_TOLERANCE
            else:
                same_best += not mine and not theirs
        results.append(
            EfResult(
                ef=ef,
                latency_ms=latency,
                fused_recall=fused_hits / fused_total if fused_total else 1.0,
                top_performer_agreement=same_top / len(found),
                best_distance_agreement=same_best / len(found),
                **recall,
            )
        )
    db.facenet_index.ef = db.arcface_index.ef = db.ef
    return baseline_ms, results


def data_shape(
    world: World, exact: FaceDatabase, queries: tuple[Matrix, Matrix], truth: npt.NDArray[np.int64]
) -> dict[str, float]:
    """Describe the data: distance to the nearest face of the same and of another performer."""
    own: list[float] = []
    other: list[float] = []
    right = 0
    for name, index, vectors in (
        ("facenet", exact.facenet_index, queries[0]),
        ("arcface", exact.arcface_index, queries[1]),
    ):
        ids, distances = index.query(vectors, k=min(50, world.faces))
        owners = world.owner[ids.astype(np.int64)]
        for row, performer in enumerate(truth):
            mine = distances[row][owners[row] == performer]
            theirs = distances[row][owners[row] != performer]
            if mine.size:
                own.append(float(mine[0]))
            if theirs.size:
                other.append(float(theirs[0]))
            if name == "facenet":
                right += int(owners[row][0] == performer)
    return {
        "own_nearest_median": statistics.median(own),
        "other_nearest_median": statistics.median(other),
        "facenet_top1_correct": right / len(truth),
    }


# --------------------------------------------------------------------------------------------
# Running it


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Build (or reuse) the release and measure it; return the figures."""
    config = FacesConfig()
    world = make_world(args.faces, seed=args.seed)
    directory, build_s = ensure_release(world, args.data_dir)
    loads = measure_loads(directory)

    db = FaceDatabase.load(directory, verify="never", ef=config.query_ef)
    facenet, arcface = world.database_vectors()
    _check_release(db, facenet, arcface)
    exact = dataclasses.replace(
        db, facenet_index=ExactIndex(facenet), arcface_index=ExactIndex(arcface)
    )
    del facenet, arcface
    rng = np.random.default_rng([args.seed, 3])
    truth = rng.choice(world.performers, size=args.batch, replace=args.batch > world.performers)
    queries = world.views(truth.astype(np.int64), QUERY_NOISE, rng)
    baseline_ms, per_ef = measure_search(db, exact, queries, config, efs=args.ef, runs=args.runs)
    shape = data_shape(world, exact, queries, truth)
    return {
        "machine": _machine(),
        "command": " ".join(["python", "bench/facedb_scale.py", *sys.argv[1:]]),
        "faces": db.face_count,
        "performers": db.performer_count,
        "storage": db.storage_types,
        "release": str(directory),
        "release_bytes": sum(p.stat().st_size for p in directory.iterdir() if p.is_file()),
        "build_seconds": build_s,
        "load": loads,
        "batch": args.batch,
        "runs": args.runs,
        "query_k": config.query_k,
        "configured_ef": config.query_ef,
        "shape": shape,
        "exact_latency_ms": baseline_ms,
        "per_ef": [dataclasses.asdict(r) for r in per_ef],
    }


def _check_release(db: FaceDatabase, facenet: Matrix, arcface: Matrix) -> None:
    """Refuse a release whose index ids do not hold the generator's vectors in row order."""
    for index, vectors in ((db.facenet_index, facenet), (db.arcface_index, arcface)):
        for start in range(0, len(vectors), CHUNK):
            ids = list(range(start, min(start + CHUNK, len(vectors))))
            stored = np.asarray(index.get_vectors(ids), np.float32)
            want = vectors[start : start + len(ids)]
            cosine = np.einsum("ij,ij->i", stored, want) / (
                np.linalg.norm(stored, axis=1) * np.linalg.norm(want, axis=1)
            )
            if float(cosine.min()) < 0.9999:
                raise SystemExit(
                    f"{db.directory}: index id {start + int(cosine.argmin())} does not hold "
                    "the generator's vector; delete the folder to rebuild"
                )


def _machine() -> str:
    return (
        f"{platform.system()} {platform.release()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs, CPython {platform.python_version()}"
    )


def table(figures: dict[str, Any]) -> list[str]:
    """Render the figures as markdown tables."""
    lines = [
        f"{figures['faces']:,} faces, {figures['performers']:,} performers, storage "
        f"{figures['storage']['facenet']}/{figures['storage']['arcface']}, "
        f"{figures['release_bytes'] / 2**20:,.0f} MiB on disk; {figures['machine']}",
        "",
        "| load (fresh process) | seconds | files hashed | RSS added MiB | peak added MiB |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, label in (("first", "first (checksums hashed)"), ("cached", "checksum cache")):
        load = figures["load"][name]
        lines.append(
            f"| {label} | {load['seconds']:.2f} | {load['hashed']} | "
            f"{load['rss_added_mib']:,.0f} | {load['peak_added_mib']:,.0f} |"
        )
    exact_ms = statistics.median(figures["exact_latency_ms"])
    lines += [
        "",
        f"Batch of {figures['batch']} scene faces, `search_faces` with k={figures['query_k']}, "
        f"median of {figures['runs']}; recall against exact cosine search.",
        "",
        "| ef | batch ms | / exact | recall@10 fn / af (k=10) "
        f"| recall@10 fn / af (k={figures['query_k']}) "
        f"| recall@{figures['query_k']} fn / af | fused candidates | top performer "
        "| best fused distance |",
        "|---|---:|---:|---|---|---|---:|---:|---:|",
        f"| exact (numpy) | {exact_ms:,.1f} | 1.00 | 1 / 1 | 1 / 1 | 1 / 1 | 1 | 1 | 1 |",
    ]
    for r in figures["per_ef"]:
        ms = statistics.median(r["latency_ms"])
        mark = " (configured)" if r["ef"] == figures["configured_ef"] else ""
        lines.append(
            f"| {r['ef']}{mark} | {ms:,.1f} | {ms / exact_ms:.2f} | "
            f"{r['recall10_facenet']:.4f} / {r['recall10_arcface']:.4f} | "
            f"{r['pipeline_recall10_facenet']:.4f} / {r['pipeline_recall10_arcface']:.4f} | "
            f"{r['pipeline_recall_k_facenet']:.4f} / {r['pipeline_recall_k_arcface']:.4f} | "
            f"{r['fused_recall']:.4f} | {r['top_performer_agreement']:.4f} | "
            f"{r['best_distance_agreement']:.4f} |"
        )
    shape = figures["shape"]
    lines += [
        "",
        f"Data shape (FaceNet and ArcFace pooled): a scene face's nearest face of its own "
        f"performer at median cosine distance {shape['own_nearest_median']:.3f}, of another "
        f"performer at {shape['other_nearest_median']:.3f}; FaceNet's exact nearest face is "
        f"the right performer's for {shape['facenet_top1_correct']:.1%} of the faces.",
    ]
    return lines


def summary(figures: dict[str, Any]) -> str:
    """Return one line: load, memory, and the cheapest ef near the best fused agreement."""
    per_ef = figures["per_ef"]
    best = max(r["best_distance_agreement"] for r in per_ef)
    # within half a percent of the best measured: more ef past that point only costs time
    enough = [r for r in per_ef if r["best_distance_agreement"] >= best - 0.005]
    choice = min(enough, key=lambda r: r["ef"])
    load = figures["load"]["cached"]
    return (
        f"Summary: {figures['faces']:,} faces load in {load['seconds']:.1f} s "
        f"({figures['load']['first']['seconds']:.1f} s hashing) and add "
        f"{load['rss_added_mib']:,.0f} MiB resident; ef {choice['ef']} is the smallest whose "
        f"best fused distance matches exact search for {choice['best_distance_agreement']:.1%} "
        f"of the faces (best measured {best:.1%}), at "
        f"{statistics.median(choice['latency_ms']):,.0f} ms per batch of {figures['batch']}."
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--faces", type=int, default=RELEASE_FACES, help="faces in the release")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--batch", type=int, default=300, help="query faces per search call")
    p.add_argument("--runs", type=int, default=5, help="timed searches per ef")
    p.add_argument(
        "--ef",
        type=lambda text: [int(v) for v in text.split(",")],
        default=[50, 100, 200, 400],
        help="comma-separated query_ef values",
    )
    p.add_argument("--data-dir", type=Path, default=ROOT / "data" / "bench")
    p.add_argument("--build-only", action="store_true", help="build the release and stop")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--probe-load", nargs=2, type=Path, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.probe_load:
        print(json.dumps(probe_load(*args.probe_load)))
        return 0
    if args.build_only:
        directory, seconds = ensure_release(make_world(args.faces, args.seed), args.data_dir)
        built = "reused" if seconds is None else f"built in {seconds:.0f} s"
        print(f"{directory}: {built}")
        return 0
    figures = run(args)
    if args.json:
        print(json.dumps(figures, indent=1))
    else:
        print("\n".join(table(figures)))
        print()
        print(summary(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
