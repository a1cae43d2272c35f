"""Scenes per second on a backlog: the pipelined engine against one scene at a time, one run.

Both sides are the real daemon (`build_app`) in this process, against the fake Stash in a
process of its own (as Stash would be; its CPU time is not counted) on loopback, with the
same models, face database and scenes. Each side identifies one scene to warm up (models
loaded, decoding processes started), then N scenes queued at once as
`identify_scene` jobs through the real job queue; the clock runs from the enqueue to the
last job's success. Only `[engine] mode` differs: `sequential` is today's path (one scene at a
time, stage after stage, in one executor thread); `pipelined` is the engine.

Models. `light`: the synthetic stand-ins of `tests/faces/models.py` (the detector finds the
coloured squares, the embedders are cheap). `heavy` ("realistic"): the same detector, with
the heavy stand-in embedders (real signatures, about the real compute: FaceNet ~1.5 GMAC per
160-px image, ArcFace ~5.3 GMAC per 112-px image, random weights). Their vectors match no one,
so persons come out unknown; the work per face is the real one.

Scenes. Textured, panning grey video with film grain (so H.264 spends bits and decoding costs
what it costs on real footage), and one or two coloured squares (the faces) moving around.

    python bench/backlog.py --quick                       # < 3 min on 2 cores
    python bench/backlog.py --scenes 40 --height 1080 --models heavy
    python bench/backlog.py --scenes 2000 --height 1080 --models heavy --provider cuda
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the model, release and fake-Stash builders live in tests/

from tests.faces.models import (  # noqa: E402
    PALETTE,
    build_arcface,
    build_arcface_heavy,
    build_detector,
    build_facenet,
    build_facenet_heavy,
    conv_macs,
    palette_vectors,
)
from tests.faces.release import random_performers, write_release  # noqa: E402
from tests.fakes.stash.server import FakeStash  # noqa: E402
from tests.helpers import TOKEN, daemon_config  # noqa: E402

from stash_sense.config import Config, EngineConfig  # noqa: E402
from stash_sense.daemon import build_app  # noqa: E402
from stash_sense.identify.job import IDENTIFY_SCENE, IdentifySceneArgs  # noqa: E402
from stash_sense.keys import DAEMON, IDENTIFY, QUEUE  # noqa: E402
from stash_sense.queue import JobState  # noqa: E402

OUT = ROOT / "bench" / "out" / "backlog"
STAGES = ("frames", "detect", "embed", "search", "match", "evidence")
ENGINE_STAGES = ("decode", "detect", "embed", "search", "match")


@dataclass(frozen=True)
class ClipSpec:
    """One synthetic scene: size, length, frame rate, GOP and seed."""

    height: int
    seconds: float
    fps: int
    seed: int

    @property
    def width(self) -> int:
        return round(self.height * 16 / 9 / 2) * 2

    def path(self) -> Path:
        digest = hashlib.sha256(repr(self).encode()).hexdigest()[:8]
        return OUT / "clips" / f"scene_{self.height}p_{self.seconds:g}s_{digest}.mp4"


def _texture(height: int, width: int, rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    """Smooth grey texture at several scales, like a busy background."""
    acc = np.zeros((height, width), np.float32)
    for scale, weight in ((4, 50.0), (16, 30.0), (64, 15.0)):
        cell = max(height // scale, 2)
        small = rng.standard_normal((height // cell + 2, width // cell + 2)).astype(np.float32)
        big = cv2.resize(
            small, (small.shape[1] * cell, small.shape[0] * cell), interpolation=cv2.INTER_CUBIC
        )
        acc += weight * big[:height, :width]
    return np.clip(128 + acc, 16, 235).astype(np.uint8)


def encode_clip(spec: ClipSpec) -> Path:
    """Encode the scene once (H.264, x264 defaults: keyint 250, B-frames) and cache it."""
    path = spec.path()
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(spec.seed)
    width, height = spec.width, spec.height
    pad = height // 3
    background = _texture(height + pad, width + pad, rng)
    grain = [rng.integers(0, 6, (height, width), dtype=np.uint8) for _ in range(5)]
    colours = list(PALETTE.values())
    side = height // 5
    partial = path.with_suffix(".partial.mp4")
    total = round(spec.seconds * spec.fps)
    with av.open(str(partial), mode="w") as container:
        stream = container.add_stream("libx264", rate=spec.fps, options={"preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(total):
            t = i / spec.fps
            x = int(pad / 2 * (1 + np.sin(t / 3.1)))
            y = int(pad / 2 * (1 + np.sin(t / 4.3 + spec.seed)))
            luma = background[y : y + height, x : x + width] ^ grain[i % len(grain)]
            image = np.repeat(luma[:, :, None], 3, axis=2)
            faces = 1 + (i * 3 // total) % 2  # a second face in the middle third
            for n in range(faces):
                fx = int((width - side) * (0.5 + 0.4 * np.sin(t / 2 + n * 2.5)))
                fy = int((height - side) * (0.5 + 0.4 * np.cos(t / 2.7 + n)))
                colour = colours[(spec.seed + n) % len(colours)]
                image[fy : fy + side, fx : fx + side] = colour
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    os.replace(partial, path)
    return path


def ensure_models(kind: str) -> Path:
    """Write the stand-in models once: the synthetic detector, light or heavy embedders."""
    directory = OUT / f"models-{kind}"
    marker = directory / ".complete"
    if not marker.exists():
        directory.mkdir(parents=True, exist_ok=True)
        build_detector(directory / "det_500m.onnx")
        if kind == "heavy":
            build_facenet_heavy(directory / "facenet512.onnx")
            build_arcface_heavy(directory / "arcface.onnx")
        else:
            build_facenet(directory / "facenet512.onnx")
            build_arcface(directory / "arcface.onnx")
        marker.touch()
    return directory


def ensure_release(faces: int) -> Path:
    """A release with one performer per palette colour among random ones."""
    directory = OUT / f"release-{faces}"
    if not (directory / "manifest.json").exists():
        rng = np.random.default_rng(3)
        performers: dict[str, Any] = {}
        for number, colour in enumerate(PALETTE):
            fn, af = palette_vectors("facenet")[colour], palette_vectors("arcface")[colour]
            performers[f"stashdb.org:00000000-0000-4000-8000-{number:012d}"] = [
                (fn + rng.normal(0, 0.05, fn.shape), af + rng.normal(0, 0.05, af.shape))
                for _ in range(3)
            ]
        performers.update(random_performers(max(faces // 3 - len(PALETTE), 1), 3, seed=4))
        write_release(directory, performers)
    return directory


class GpuSampler:
    """Sample the GPU's utilisation with nvidia-smi every half second (when there is one)."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def __enter__(self) -> GpuSampler:
        if shutil.which("nvidia-smi"):
            self._process = subprocess.Popen(
                [
                    "nvidia-smi",
                    "--query-gpu=utilization.gpu",
                    "--format=csv,noheader,nounits",
                    "-lms",
                    "500",
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            self._reader = threading.Thread(target=self._read, daemon=True)
            self._reader.start()
        return self

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            with contextlib.suppress(ValueError):
                self.samples.append(float(line.split(",")[0]))

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait()

    @property
    def mean(self) -> float | None:
        return sum(self.samples) / len(self.samples) if self.samples else None


def _proc_stat(pid: int | str) -> tuple[int, float] | None:
    """A process's parent and its user + system CPU seconds, from /proc (None: gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants_cpu_seconds() -> float:
    """CPU seconds used so far by this process and every live process below it."""
    stats = {int(e): st for e in os.listdir("/proc") if e.isdigit() and (st := _proc_stat(e))}
    mine = {os.getpid()}
    grew = True
    while grew:
        grew = False
        for pid, (parent, _) in stats.items():
            if parent in mine and pid not in mine:
                mine.add(pid)
                grew = True
    return sum(stats[pid][1] for pid in mine if pid in stats)


@dataclass
class Side:
    """One side's figures."""

    mode: str
    scenes: int
    seconds: float
    cpu_seconds: float
    faces: int
    stage_busy: dict[str, float]  # seconds each stage worked (summed over processes)
    gpu_percent: float | None  # mean GPU utilisation (nvidia-smi), None without a GPU

    @property
    def scenes_per_second(self) -> float:
        return self.scenes / self.seconds


def config_for(args: argparse.Namespace, mode: str, data: Path, stash_url: str) -> Config:
    """The daemon's configuration for one side."""
    config = daemon_config(
        data,
        stash_url=stash_url,
        faces={
            "models_dir": str(ensure_models(args.models)),
            "database_dir": str(ensure_release(args.db_faces)),
            "num_frames": args.frames,
            "detection_size": args.detection_size,
            "execution_provider": args.provider,
            "embedding_batch_size": 32,
        },
    )
    engine = EngineConfig(mode=mode, decode_workers=args.decode_workers)
    return dataclasses.replace(config, engine=engine)


async def run_side(args: argparse.Namespace, mode: str, clips: Sequence[Path]) -> Side:
    """Identify a warm-up scene, then the backlog, on one daemon; return the figures."""
    paths = [str(clips[i % len(clips)]) for i in range(args.scenes + 1)]
    with (
        tempfile.TemporaryDirectory(prefix=f"backlog-{mode}-") as tmp,
        FakeStashProcess(paths) as stash,
    ):
        app = build_app(config_for(args, mode, Path(tmp) / "data", stash.url), TOKEN)
        runner = web.AppRunner(app)
        await runner.setup()
        try:
            faces = app[IDENTIFY].faces
            if not await faces.load():
                raise SystemExit(f"models did not load: {faces.status.error}")
            queue = app[QUEUE].jobs
            job_type = app[DAEMON].registry.get(IDENTIFY_SCENE)

            async def identify(ids: Sequence[int], expected: int) -> None:
                for scene_id in ids:
                    await queue.enqueue(job_type, IdentifySceneArgs(scene_id))
                while True:
                    counts = (await queue.store.counts_by_type()).get(IDENTIFY_SCENE, {})
                    if counts.get(JobState.FAILED):
                        raise SystemExit(f"{mode}: an identification failed")
                    if counts.get(JobState.SUCCEEDED, 0) >= expected:
                        return
                    await asyncio.sleep(0.02)

            ids = stash.scene_ids
            await identify(ids[:1], 1)  # warm-up: engine, decoding processes, caches
            before_faces = faces.stats.totals()
            busy_before = _busy(faces)
            # The fake Stash stands in for a Stash on another machine: its CPU is not ours.
            cpu = descendants_cpu_seconds() - stash.cpu_seconds()
            began = time.perf_counter()
            with GpuSampler() as gpu:
                await identify(ids[1:], len(ids))
            seconds = time.perf_counter() - began
            cpu = descendants_cpu_seconds() - stash.cpu_seconds() - cpu
            after_faces = faces.stats.totals()
            busy = {k: v - busy_before.get(k, 0.0) for k, v in _busy(faces).items()}
            kept = after_faces.faces_kept.total - before_faces.faces_kept.total
        finally:
            await runner.cleanup()
    return Side(mode, args.scenes, seconds, cpu, int(kept), busy, gpu.mean)


class FakeStashProcess:
    """The fake Stash with one scene per path, in its own process (as Stash would be)."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = list(paths)
        self.url = ""
        self.scene_ids: list[int] = []
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> FakeStashProcess:
        self._process = subprocess.Popen(
            [sys.executable, __file__, "--serve-stash", *self.paths],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        ready = json.loads(self._process.stdout.readline())
        self.url, self.scene_ids = ready["url"], ready["scene_ids"]
        return self

    def cpu_seconds(self) -> float:
        """CPU seconds the fake Stash has used so far."""
        assert self._process is not None
        return process_cpu_seconds(self._process.pid)

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait()


async def serve_stash(paths: Sequence[str]) -> None:
    """Serve the fake Stash until terminated; print its URL and scene ids first."""
    fake = FakeStash()
    scenes = [fake.library.add_scene(title=f"scene {i}", path=p) for i, p in enumerate(paths)]
    async with fake:
        print(json.dumps({"url": fake.url, "scene_ids": [s.id for s in scenes]}), flush=True)
        await asyncio.Event().wait()


def process_cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of one process."""
    stat = _proc_stat(pid)
    return stat[1] if stat is not None else 0.0


def median_side(sides: list[Side]) -> Side:
    """The run with the median wall time."""
    return sorted(sides, key=lambda side: side.seconds)[(len(sides) - 1) // 2]


def _busy(faces: Any) -> dict[str, float]:
    """Seconds each stage has worked: the engine's meters, else the results' timings."""
    samples = faces.stage_samples()
    if samples:
        return {s.stage: s.busy_seconds for s in samples}
    totals = faces.stats.totals().stage_seconds
    return {("decode" if k == "frames" else k): v for k, v in totals.items() if k in STAGES}


def sgemm_gflops() -> float:
    """The machine's dense FP32 rate through numpy (the embedders' arithmetic floor)."""
    rng = np.random.default_rng(1)
    a = rng.random((2048, 2048), dtype=np.float32)
    b = rng.random((2048, 2048), dtype=np.float32)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(3))
    return 2 * 2048**3 / best / 1e9


def _timed(call: Any) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def embed_gflop_per_face(models: Path) -> float:
    """FLOP of embedding one face (and its mirror) with both models."""
    macs = conv_macs(models / "facenet512.onnx", (160, 160)) + conv_macs(
        models / "arcface.onnx", (112, 112)
    )
    return 2 * 2 * macs / 1e9


def report(args: argparse.Namespace, sides: dict[str, Side]) -> list[str]:
    """The markdown table and the summary lines."""
    seq, eng = sides["sequential"], sides["pipelined"]
    lines = [
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, CPython "
        f"{platform.python_version()}, onnxruntime {ort.__version__} ({args.provider}), "
        f"PyAV {av.__version__}",
        f"Backlog: {args.scenes} scenes, {args.height}p {args.seconds:g} s {args.fps} fps H.264, "
        f"{args.frames} frames per scene, detection {args.detection_size}, {args.models} "
        f"stand-in models, face database {args.db_faces} faces",
        "",
        "| | sequential | pipelined |",
        "|---|---:|---:|",
        f"| wall seconds | {seq.seconds:.1f} | {eng.seconds:.1f} |",
        f"| scenes/s | {seq.scenes_per_second:.2f} | {eng.scenes_per_second:.2f} |",
        f"| CPU seconds per scene | {seq.cpu_seconds / seq.scenes:.2f} | "
        f"{eng.cpu_seconds / eng.scenes:.2f} |",
        f"| cores busy (CPU s / wall s) | {seq.cpu_seconds / seq.seconds:.2f} | "
        f"{eng.cpu_seconds / eng.seconds:.2f} |",
        f"| faces per scene | {seq.faces / seq.scenes:.1f} | {eng.faces / eng.scenes:.1f} |",
    ]
    if eng.gpu_percent is not None and seq.gpu_percent is not None:
        lines.append(f"| GPU utilisation | {seq.gpu_percent:.0f} % | {eng.gpu_percent:.0f} % |")
    for stage in ENGINE_STAGES:
        cells = [f"{side.stage_busy.get(stage, 0.0) / side.seconds:.2f}" for side in (seq, eng)]
        lines.append(f"| {stage}: busy seconds per wall second | {cells[0]} | {cells[1]} |")
    lines.append(f"(median of {args.runs} runs per side, sides alternating)")
    if args.models == "heavy":
        rate = sgemm_gflops()
        per_face = embed_gflop_per_face(ensure_models("heavy"))
        # The rate is all cores together, so the floor is wall seconds, as is each side's figure.
        floor = eng.faces / eng.scenes * per_face / rate
        seq_scene, eng_scene = seq.seconds / seq.scenes, eng.seconds / eng.scenes
        lines += [
            "",
            f"Embedder arithmetic floor: {per_face:.1f} GFLOP per face at {rate:.0f} GFLOP/s "
            f"(numpy sgemm, all cores) = {floor:.2f} s per scene; sequential takes "
            f"{seq_scene:.2f} s per scene ({seq_scene / floor:.2f}x), "
            f"pipelined {eng_scene:.2f} s ({eng_scene / floor:.2f}x).",
        ]
    lines += ["", f"speedup: {eng.scenes_per_second / seq.scenes_per_second:.2f}"]
    return lines


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=40, help="backlog length (default 40)")
    parser.add_argument("--provider", choices=("cpu", "cuda", "tensorrt"), default="cpu")
    parser.add_argument("--quick", action="store_true", help="small clips, light models, N=24")
    parser.add_argument("--models", choices=("light", "heavy"), default="heavy")
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--seconds", type=float, default=60.0, help="clip length")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--frames", type=int, default=60, help="frames sampled per scene")
    parser.add_argument("--detection-size", type=int, default=640)
    parser.add_argument("--decode-workers", type=int, default=0, help="0: automatic")
    parser.add_argument("--db-faces", type=int, default=20_000)
    parser.add_argument("--clips", type=int, default=3, help="distinct clips in the backlog")
    parser.add_argument("--runs", type=int, default=3, help="runs per side, alternating")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        defaults = parser.parse_args([])
        quick = {
            "scenes": 24,
            "models": "light",
            "height": 360,
            "seconds": 20.0,
            "fps": 25,
            "frames": 40,
            "detection_size": 320,
        }
        for name, value in quick.items():
            if getattr(args, name) == getattr(defaults, name):
                setattr(args, name, value)
    return args


async def amain(args: argparse.Namespace) -> int:
    began = time.perf_counter()
    clips = [
        encode_clip(ClipSpec(args.height, args.seconds, args.fps, seed))
        for seed in range(args.clips)
    ]
    print(f"clips ready in {time.perf_counter() - began:.0f} s", flush=True)
    runs: dict[str, list[Side]] = {"sequential": [], "pipelined": []}
    for number in range(args.runs):
        # Alternate which side goes first, so a drift in the machine's speed hits both.
        order = ("sequential", "pipelined") if number % 2 == 0 else ("pipelined", "sequential")
        for mode in order:
            side = await run_side(args, mode, clips)
            runs[mode].append(side)
            print(f"run {number + 1}, {mode}: {side.seconds:.1f} s", flush=True)
    sides = {mode: median_side(done) for mode, done in runs.items()}
    for line in report(args, sides):
        print(line)
    if args.json:
        print(
            json.dumps({mode: [dataclasses.asdict(s) for s in done] for mode, done in runs.items()})
        )
    print(f"(whole run {time.perf_counter() - began:.0f} s)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--serve-stash"]:
        asyncio.run(serve_stash(argv[1:]))
        return 0
    return asyncio.run(amain(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
