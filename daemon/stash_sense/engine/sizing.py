"""Turn the `[engine]` settings (0 means automatic) into concrete sizes."""

from __future__ import annotations

import os
from dataclasses import dataclass

import onnxruntime as ort

from stash_sense.config import Config, EngineConfig, FacesConfig

GPU_DETECT_BATCH = 16
GPU_EMBED_BATCH = 128
# Below this many cores a CPU-only host runs one scene at a time under `mode = "auto"`: on 2
# cores every stage already spreads over both (FFmpeg, ONNX Runtime and Voyager threads), and
# the engine measured no faster there (docs/benchmarks.md, "Backlog throughput").
PIPELINED_MIN_CORES = 4
GPU_PROVIDERS = ("CUDAExecutionProvider", "TensorrtExecutionProvider")


@dataclass(frozen=True)
class EngineSizing:
    """How many processes, scenes and items each part of the engine takes."""

    decode_workers: int
    # Scenes holding frames at once (decoding, or decoded and waiting for the detector):
    # the bound on the engine's largest memory use, about 370 MB per 1080p scene.
    frame_slots: int
    scenes_in_flight: int
    detect_batch: int
    embed_batch: int

    @classmethod
    def resolve(
        cls, engine: EngineConfig, faces: FacesConfig, *, gpu: bool, cores: int | None = None
    ) -> EngineSizing:
        """Resolve the automatic values for this machine and provider."""
        workers = engine.decode_workers or decode_workers_for(cores)
        return cls(
            decode_workers=workers,
            frame_slots=workers + 2,
            scenes_in_flight=scenes_in_flight(engine, cores),
            detect_batch=engine.detect_batch or (GPU_DETECT_BATCH if gpu else 1),
            embed_batch=engine.embed_batch
            or (GPU_EMBED_BATCH if gpu else faces.embedding_batch_size),
        )


def decode_workers_for(cores: int | None = None) -> int:
    """One decoding process per core, leaving one core to the inference thread."""
    available = cores if cores is not None else (os.cpu_count() or 1)
    return max(available - 1, 1)


def scenes_in_flight(engine: EngineConfig, cores: int | None = None) -> int:
    """Scenes the engine takes at once: enough to keep every stage fed."""
    if engine.scenes_in_flight:
        return engine.scenes_in_flight
    workers = engine.decode_workers or decode_workers_for(cores)
    return 2 * workers + 4


def pipelined(config: Config, cores: int | None = None) -> bool:
    """Tell whether identifications go through the engine (`[engine] mode`, auto resolved)."""
    mode = config.engine.mode
    if mode != "auto":
        return mode == "pipelined"
    provider = config.faces.execution_provider
    if provider in ("cuda", "tensorrt"):
        return True
    if provider == "auto" and any(p in ort.get_available_providers() for p in GPU_PROVIDERS):
        return True
    return (cores if cores is not None else (os.cpu_count() or 1)) >= PIPELINED_MIN_CORES


def gpu_job_slots(config: Config) -> int:
    """Identify jobs the queue runs at once: the engine's scenes in flight when pipelined."""
    slots = config.queue.concurrency.gpu
    if not pipelined(config) or slots == 0:
        return slots  # 0 keeps the GPU pool switched off
    return max(slots, scenes_in_flight(config.engine))
