"""The engine's automatic sizes, and how many identify jobs the queue runs with it."""

from __future__ import annotations

import dataclasses

from stash_sense.config import Config, EngineConfig, FacesConfig, QueueConfig
from stash_sense.config.model import ConcurrencyConfig
from stash_sense.engine.sizing import EngineSizing, gpu_job_slots, pipelined, scenes_in_flight


def test_automatic_sizes_follow_the_cores_and_the_provider() -> None:
    faces = FacesConfig(embedding_batch_size=24)
    cpu = EngineSizing.resolve(EngineConfig(), faces, gpu=False, cores=2)
    assert (cpu.decode_workers, cpu.frame_slots, cpu.scenes_in_flight) == (1, 3, 6)
    assert (cpu.detect_batch, cpu.embed_batch) == (1, 24)
    gpu = EngineSizing.resolve(EngineConfig(), faces, gpu=True, cores=16)
    assert (gpu.decode_workers, gpu.frame_slots, gpu.scenes_in_flight) == (15, 17, 34)
    assert (gpu.detect_batch, gpu.embed_batch) == (16, 128)
    one = EngineSizing.resolve(EngineConfig(), faces, gpu=False, cores=1)
    assert one.decode_workers == 1


def test_explicit_sizes_win() -> None:
    engine = EngineConfig(decode_workers=3, scenes_in_flight=5, detect_batch=8, embed_batch=64)
    sizing = EngineSizing.resolve(engine, FacesConfig(), gpu=False, cores=32)
    assert dataclasses.astuple(sizing) == (3, 5, 5, 8, 64)


def config(mode: str, gpu: int, **engine: int) -> Config:
    return Config(
        queue=QueueConfig(concurrency=ConcurrencyConfig(gpu=gpu)),
        engine=EngineConfig(mode=mode, **engine),
    )


def test_the_queue_runs_one_identify_job_per_scene_the_engine_takes() -> None:
    assert gpu_job_slots(config("pipelined", 1, decode_workers=2)) == 8
    assert gpu_job_slots(config("pipelined", 12, scenes_in_flight=4)) == 12
    assert gpu_job_slots(config("sequential", 1, decode_workers=2)) == 1
    assert gpu_job_slots(config("pipelined", 0)) == 0  # a disabled pool stays disabled
    assert gpu_job_slots(config("auto", 1)) in (1, scenes_in_flight(EngineConfig()))


def test_auto_mode_pipelines_on_a_gpu_or_four_cores() -> None:
    def auto(provider: str) -> Config:
        return Config(faces=FacesConfig(execution_provider=provider))

    assert not pipelined(auto("cpu"), cores=2)
    assert pipelined(auto("cpu"), cores=4)
    assert pipelined(auto("cuda"), cores=2)
    assert pipelined(auto("tensorrt"), cores=1)
    # "auto" provider: a GPU only if this onnxruntime build has one (the CPU build here)
    assert not pipelined(auto("auto"), cores=2)
    assert pipelined(config("pipelined", 1), cores=1)
    assert not pipelined(config("sequential", 1), cores=64)
