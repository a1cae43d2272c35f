"""Which ONNX Runtime execution providers to ask for, and with which options.

Plain data only: the lists built here are what `onnxruntime.InferenceSession(providers=)` takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stash_sense.config import FacesConfig

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"
GPU_PROVIDERS = (CUDA, TENSORRT)

PROVIDER_CHOICES = ("auto", "cuda", "tensorrt", "cpu")

ProviderSpec = str | tuple[str, dict[str, str]]

# Config words to the values ORT's CUDA provider expects.
_ARENA = {"same_as_requested": "kSameAsRequested", "next_power_of_two": "kNextPowerOfTwo"}
_CONV_SEARCH = {"heuristic": "HEURISTIC", "exhaustive": "EXHAUSTIVE", "default": "DEFAULT"}


@dataclass(frozen=True)
class GpuOptions:
    """The GPU settings of `[faces]` that shape provider options."""

    cuda_device: int = 0
    # kSameAsRequested keeps the arena from doubling past what the models need on small GPUs.
    cuda_arena: str = "same_as_requested"
    # HEURISTIC avoids an exhaustive cuDNN search for every new batch shape (batches vary).
    cudnn_conv_algo_search: str = "heuristic"
    tensorrt_cache_dir: Path | None = None
    tensorrt_fp16: bool = False

    def __post_init__(self) -> None:
        if self.cuda_arena not in _ARENA:
            raise ValueError(f"cuda_arena must be one of {tuple(_ARENA)}, got {self.cuda_arena!r}")
        if self.cudnn_conv_algo_search not in _CONV_SEARCH:
            raise ValueError(
                f"cudnn_conv_algo_search must be one of {tuple(_CONV_SEARCH)}, "
                f"got {self.cudnn_conv_algo_search!r}"
            )

    @classmethod
    def from_config(cls, config: FacesConfig) -> GpuOptions:
        """Take the GPU settings from the `[faces]` section."""
        return cls(
            cuda_device=config.cuda_device,
            cuda_arena=config.cuda_arena,
            cudnn_conv_algo_search=config.cudnn_conv_algo_search,
            tensorrt_cache_dir=Path(config.tensorrt_cache_dir).expanduser().resolve(),
            tensorrt_fp16=config.tensorrt_fp16,
        )

    def cuda(self) -> dict[str, str]:
        """Options of the CUDA provider."""
        return {
            "device_id": str(self.cuda_device),
            "cudnn_conv_algo_search": _CONV_SEARCH[self.cudnn_conv_algo_search],
            "arena_extend_strategy": _ARENA[self.cuda_arena],
        }

    def tensorrt(self) -> dict[str, str]:
        """Options of the TensorRT provider."""
        options = {
            "device_id": str(self.cuda_device),
            # Engines take minutes to build; the cache (and the timing cache, which speeds up
            # building engines for new shapes) make later starts take seconds.
            "trt_engine_cache_enable": "True",
            "trt_timing_cache_enable": "True",
            # FP16 moves the embeddings; it stays off unless the user asks (no recall check yet).
            "trt_fp16_enable": "True" if self.tensorrt_fp16 else "False",
        }
        if self.tensorrt_cache_dir is not None:
            options["trt_engine_cache_path"] = str(self.tensorrt_cache_dir)
            options["trt_timing_cache_path"] = str(self.tensorrt_cache_dir)
        return options


def requested_providers(
    provider: str, compiled: list[str], options: GpuOptions
) -> list[ProviderSpec]:
    """List the providers (with options) to ask of ONNX Runtime, best first, CPU last."""
    if provider not in PROVIDER_CHOICES:
        raise ValueError(f"execution_provider must be one of {PROVIDER_CHOICES}, got {provider!r}")
    cuda: ProviderSpec = (CUDA, options.cuda())
    if provider == "cpu":
        return [CPU]
    if provider == "auto":
        # auto never picks TensorRT: its first start builds engines for minutes.
        return [cuda, CPU] if CUDA in compiled else [CPU]
    if provider == "cuda":
        return [cuda, CPU]
    return [(TENSORRT, options.tensorrt()), cuda, CPU]
