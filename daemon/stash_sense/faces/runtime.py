"""ONNX Runtime sessions, kept apart from the models that use them.

Everything here is synchronous: the daemon runs inference in an executor, never on the event loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from stash_sense.faces.providers import (
    CPU,
    CUDA,
    GPU_PROVIDERS,
    PROVIDER_CHOICES,
    TENSORRT,
    GpuOptions,
    ProviderSpec,
    requested_providers,
)
from stash_sense.faces.types import ModelError

__all__ = [
    "CPU",
    "CUDA",
    "IO_BINDING_CHOICES",
    "TENSORRT",
    "GpuOptions",
    "InferenceRuntime",
    "ModelSession",
    "TensorInfo",
]

log = logging.getLogger(__name__)

# Severity 3 (errors only) hides the warning ORT prints when a GPU provider cannot be created;
# we check the providers ourselves and say what happened in one line.
_ORT_LOG_SEVERITY = 3

IO_BINDING_CHOICES = ("auto", "on", "off")

Dim = int | str | None  # fixed size, symbolic name, or unknown


@dataclass(frozen=True)
class TensorInfo:
    """Name, shape and element type of one model input or output."""

    name: str
    shape: tuple[Dim, ...]
    type: str  # e.g. "tensor(float)"


def _format_shape(shape: Sequence[Dim], labels: Sequence[Dim] = ()) -> str:
    """Write a shape as (N,3,160,160), using the expected labels for dynamic dimensions."""
    parts = []
    for i, dim in enumerate(shape):
        if isinstance(dim, int) and dim >= 0:
            parts.append(str(dim))
        elif i < len(labels) and isinstance(labels[i], str):
            parts.append(str(labels[i]))
        else:
            parts.append("?")
    return "(" + ",".join(parts) + ")"


def _dims_match(actual: Sequence[Dim], expected: Sequence[Dim]) -> bool:
    """Tell whether a model shape fits the expected one; dynamic dims fit any fixed size."""
    if len(actual) != len(expected):
        return False
    for have, want in zip(actual, expected, strict=True):
        if isinstance(want, int) and isinstance(have, int) and have >= 0 and have != want:
            return False
    return True


class ModelSession:
    """One loaded ONNX model: its signature, a lock-guarded run, and shape checks."""

    def __init__(
        self,
        session: Any,
        *,
        path: Path,
        name: str,
        io_binding: bool = False,
        device_id: int = 0,
    ) -> None:
        self.session = session
        self.path = Path(path)
        self.name = name
        self.inputs = [self._info(arg) for arg in session.get_inputs()]
        self.outputs = [self._info(arg) for arg in session.get_outputs()]
        self.providers: list[str] = list(session.get_providers())
        self.io_binding = io_binding
        self.device_id = device_id
        # Where bound inputs live: device memory when the model runs on the GPU.
        self.device = "cuda" if self.providers and self.providers[0] in GPU_PROVIDERS else "cpu"
        # ORT's run is thread-safe, but one call at a time keeps GPU memory and threads predictable.
        self._lock = threading.Lock()

    @staticmethod
    def _info(arg: Any) -> TensorInfo:
        """Turn an ORT NodeArg into a TensorInfo."""
        shape = tuple(dim if isinstance(dim, int | str) else None for dim in (arg.shape or ()))
        return TensorInfo(name=str(arg.name), shape=shape, type=str(arg.type))

    @property
    def input_names(self) -> list[str]:
        """Names of the model inputs, in order."""
        return [info.name for info in self.inputs]

    @property
    def output_names(self) -> list[str]:
        """Names of the model outputs, in order."""
        return [info.name for info in self.outputs]

    def error(self, message: str) -> ModelError:
        """Build a ModelError that names this model's file."""
        return ModelError(f"{self.path.name}: {message}")

    def run(
        self,
        inputs: Mapping[str, npt.NDArray[Any]] | npt.NDArray[Any],
        output_names: Sequence[str] | None = None,
    ) -> list[npt.NDArray[Any]]:
        """Run the model; a bare array feeds the only input."""
        if isinstance(inputs, np.ndarray):
            if len(self.inputs) != 1:
                raise self.error(f"has {len(self.inputs)} inputs; pass them by name")
            feeds: Mapping[str, npt.NDArray[Any]] = {self.inputs[0].name: inputs}
        else:
            feeds = inputs
        with self._lock:
            try:
                if self.io_binding:
                    results = self._run_bound(output_names or self.output_names, feeds)
                else:
                    results = self.session.run(list(output_names) if output_names else None, feeds)
            except Exception as err:  # ORT raises its own pybind exception types
                raise self.error(f"inference failed: {err}") from err
        return [np.asarray(result) for result in results]

    def _run_bound(
        self, output_names: Sequence[str], feeds: Mapping[str, npt.NDArray[Any]]
    ) -> list[npt.NDArray[Any]]:
        """Run through an IO binding: inputs copied to the device once, outputs bound to CPU."""
        binding = self.session.io_binding()
        kept = []  # the device copies must outlive the run
        for name, array in feeds.items():
            contiguous = np.ascontiguousarray(array)
            if self.device == "cpu":
                binding.bind_cpu_input(name, contiguous)
            else:
                value = ort.OrtValue.ortvalue_from_numpy(contiguous, self.device, self.device_id)
                kept.append(value)
                binding.bind_ortvalue_input(name, value)
        for name in output_names:
            # ORT allocates each output (shapes vary with the batch) and copies it back once.
            binding.bind_output(name, "cpu")
        self.session.run_with_iobinding(binding)
        outputs: list[npt.NDArray[Any]] = binding.copy_outputs_to_cpu()
        return outputs

    def warm_up(self, shapes: Sequence[Sequence[int]]) -> float:
        """Run once per input shape on zeros (pays provider set-up now); return milliseconds."""
        began = time.perf_counter()
        for shape in shapes:
            if len(self.inputs) != 1:
                raise self.error(f"has {len(self.inputs)} inputs; warm-up feeds one")
            try:
                self.run(np.zeros(tuple(shape), dtype=np.float32))
            except ModelError as err:
                detail = err.__cause__ if err.__cause__ is not None else err
                raise self.error(
                    f"warm-up on a {_format_shape(shape)} input failed: {detail}"
                ) from err
        return round((time.perf_counter() - began) * 1000, 1)

    def _check(
        self,
        kind: str,
        *,
        infos: list[TensorInfo],
        index: int,
        expected: Sequence[Dim],
        layout: str,
        dtype: str | None,
    ) -> TensorInfo:
        """Check one input or output against an expected shape and element type."""
        if index >= len(infos):
            raise self.error(f"expected at least {index + 1} {kind}s, got {len(infos)}")
        info = infos[index]
        if not _dims_match(info.shape, expected):
            want = _format_shape(expected, expected)
            suffix = f" {layout}" if layout else ""
            got = _format_shape(info.shape, expected)
            raise self.error(f"expected {kind} {want}{suffix}, got {got}")
        if dtype is not None and info.type != dtype:
            raise self.error(f"expected {kind} {info.name!r} of {dtype}, got {info.type}")
        return info

    def check_input(
        self,
        expected: Sequence[Dim],
        *,
        index: int = 0,
        layout: str = "",
        dtype: str | None = "tensor(float)",
    ) -> TensorInfo:
        """Check an input's rank and fixed dims (str/None entries accept any size)."""
        return self._check(
            "input", infos=self.inputs, index=index, expected=expected, layout=layout, dtype=dtype
        )

    def check_output(
        self,
        expected: Sequence[Dim],
        *,
        index: int = 0,
        layout: str = "",
        dtype: str | None = "tensor(float)",
    ) -> TensorInfo:
        """Check an output's rank and fixed dims (str/None entries accept any size)."""
        return self._check(
            "output", infos=self.outputs, index=index, expected=expected, layout=layout, dtype=dtype
        )


class InferenceRuntime:
    """Create ONNX Runtime sessions with the configured execution provider, once per file."""

    def __init__(
        self,
        provider: str = "auto",
        *,
        intra_op_threads: int | None = None,
        gpu: GpuOptions | None = None,
        io_binding: str = "auto",
        allow_spinning: bool = True,
    ) -> None:
        if provider not in PROVIDER_CHOICES:
            raise ValueError(
                f"execution_provider must be one of {PROVIDER_CHOICES}, got {provider!r}"
            )
        if io_binding not in IO_BINDING_CHOICES:
            raise ValueError(f"io_binding must be one of {IO_BINDING_CHOICES}, got {io_binding!r}")
        self.provider = provider
        self.intra_op_threads = intra_op_threads
        self.gpu = gpu or GpuOptions()
        self.io_binding = io_binding
        # Idle ORT threads spin for a while to answer the next call sooner; when other stages
        # share the cores (the pipelined engine), that spinning takes CPU from them.
        self.allow_spinning = allow_spinning
        self._sessions: dict[Path, ModelSession] = {}
        self._lock = threading.Lock()
        ort.set_default_logger_severity(_ORT_LOG_SEVERITY)

    @property
    def cache_dir(self) -> Path | None:
        """Where TensorRT keeps its engines (None: ORT's default, the working directory)."""
        return self.gpu.tensorrt_cache_dir

    def requested_providers(self) -> list[ProviderSpec]:
        """List the providers (with options) asked of ONNX Runtime for this configuration."""
        return requested_providers(self.provider, ort.get_available_providers(), self.gpu)

    def _binds(self, providers: Sequence[str]) -> bool:
        """Tell whether a session on these providers runs through an IO binding."""
        if self.io_binding == "auto":
            return bool(providers) and providers[0] in GPU_PROVIDERS
        return self.io_binding == "on"

    def _demanded(self) -> str | None:
        """Name the GPU provider the configuration insists on, if any."""
        return {"cuda": CUDA, "tensorrt": TENSORRT}.get(self.provider)

    def _options(self) -> Any:
        """Build the session options shared by every model."""
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = _ORT_LOG_SEVERITY
        options.inter_op_num_threads = 1
        if not self.allow_spinning:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if self.intra_op_threads is not None:
            options.intra_op_num_threads = self.intra_op_threads
        return options

    def load(self, path: Path, *, name: str) -> ModelSession:
        """Load a model once (later calls reuse the session) and check its providers."""
        path = Path(path)
        key = path.resolve()
        with self._lock:
            cached = self._sessions.get(key)
            if cached is not None:
                return cached
            session = self._create(path, name)
            self._sessions[key] = session
            return session

    def _create(self, path: Path, name: str) -> ModelSession:
        """Create the ORT session, failing with the file named."""
        if not path.is_file():
            raise ModelError(f"{path}: model file not found")
        demanded = self._demanded()
        compiled = ort.get_available_providers()
        if demanded is not None and demanded not in compiled:
            # Asking anyway would only warn and fall back; say plainly what is missing.
            raise ModelError(
                f"{path}: execution_provider={self.provider} needs {demanded}, but this "
                f"onnxruntime build only has {', '.join(compiled)} (install onnxruntime-gpu)"
            )
        if demanded == TENSORRT and self.cache_dir is not None:
            try:
                self.cache_dir.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise ModelError(
                    f"{path}: cannot create the TensorRT cache folder {self.cache_dir}: "
                    f"{err.strerror}"
                ) from err
        try:
            raw = ort.InferenceSession(
                str(path), sess_options=self._options(), providers=self.requested_providers()
            )
        except Exception as err:  # ORT raises pybind types (InvalidProtobuf, Fail, ...)
            raise ModelError(f"{path}: cannot load ONNX model: {err}") from err
        providers = list(raw.get_providers())
        session = ModelSession(
            raw,
            path=path,
            name=name,
            io_binding=self._binds(providers),
            device_id=self.gpu.cuda_device,
        )
        if demanded is not None and demanded not in session.providers:
            raise ModelError(
                f"{path}: execution_provider={self.provider} demanded {demanded}, but ONNX Runtime "
                f"could only start {', '.join(session.providers)} (check the CUDA/cuDNN libraries)"
            )
        log.info(
            "model %s (%s) runs on %s%s",
            name,
            path.name,
            ", ".join(session.providers),
            " with IO binding" if session.io_binding else "",
        )
        return session

    def providers_report(self) -> dict[str, list[str]]:
        """Map each loaded model's name to the providers it actually obtained."""
        with self._lock:
            return {s.name: list(s.providers) for s in self._sessions.values()}

    def close(self) -> None:
        """Drop every session so its memory can be freed."""
        with self._lock:
            self._sessions.clear()
