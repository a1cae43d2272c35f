"""InferenceRuntime and ModelSession on real ONNX Runtime sessions."""

from __future__ import annotations

import dataclasses
import logging
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from stash_sense.config import FacesConfig
from stash_sense.faces.detector import FaceDetector
from stash_sense.faces.embedder import FaceEmbedder
from stash_sense.faces.providers import requested_providers
from stash_sense.faces.runtime import (
    CPU,
    CUDA,
    TENSORRT,
    GpuOptions,
    InferenceRuntime,
    ModelSession,
)
from stash_sense.faces.types import ModelError
from tests.faces.models import (
    CountingSession,
    build_facenet,
    build_failing_embedder,
    build_models,
    build_signature,
)


@pytest.fixture(scope="module")
def facenet_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_facenet(tmp_path_factory.mktemp("rt") / "facenet512.onnx")


@pytest.fixture
def cuda_compiled_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend this is an onnxruntime-gpu build on a machine whose CUDA libraries are missing."""
    monkeypatch.setattr(ort, "get_available_providers", lambda: [TENSORRT, CUDA, CPU])


def test_cpu_session_runs_and_is_reused(facenet_path: Path) -> None:
    runtime = InferenceRuntime("cpu")
    session = runtime.load(facenet_path, name="facenet")
    assert runtime.load(facenet_path, name="facenet") is session
    assert session.providers == [CPU]
    assert session.input_names == ["input"]
    assert session.inputs[0].shape == ("N", 160, 160, 3)
    assert session.outputs[0].shape == ("N", 512)
    out = session.run(np.zeros((3, 160, 160, 3), np.float32))
    assert len(out) == 1 and out[0].shape == (3, 512)
    by_name = session.run({"input": np.zeros((1, 160, 160, 3), np.float32)})
    assert by_name[0].shape == (1, 512)
    assert runtime.providers_report() == {"facenet": [CPU]}


def test_auto_uses_cpu_here_and_reports_it(
    facenet_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = InferenceRuntime("auto")
    assert runtime.requested_providers() == [CPU]
    with caplog.at_level(logging.INFO, logger="stash_sense.faces.runtime"):
        runtime.load(facenet_path, name="facenet")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [f"model facenet (facenet512.onnx) runs on {CPU}"]
    assert runtime.providers_report() == {"facenet": [CPU]}


@pytest.mark.usefixtures("cuda_compiled_in")
def test_auto_falls_back_to_cpu_when_cuda_cannot_start(
    facenet_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = InferenceRuntime("auto")
    requested = runtime.requested_providers()
    assert requested[0] == (
        CUDA,
        {
            "device_id": "0",
            "cudnn_conv_algo_search": "HEURISTIC",
            "arena_extend_strategy": "kSameAsRequested",
        },
    )
    assert requested[1:] == [CPU]
    with warnings.catch_warnings(), caplog.at_level(logging.INFO):
        warnings.simplefilter("ignore")  # the CPU wheel warns that CUDA is not available
        session = runtime.load(facenet_path, name="facenet")
    assert session.providers == [CPU]
    assert runtime.providers_report() == {"facenet": [CPU]}
    assert sum("runs on CPUExecutionProvider" in r.getMessage() for r in caplog.records) == 1


def test_demanding_cuda_without_it_names_the_file(facenet_path: Path) -> None:
    with pytest.raises(ModelError, match=r"facenet512\.onnx.*CUDAExecutionProvider"):
        InferenceRuntime("cuda").load(facenet_path, name="facenet")


@pytest.mark.usefixtures("cuda_compiled_in")
@pytest.mark.parametrize(("provider", "demanded"), [("cuda", CUDA), ("tensorrt", TENSORRT)])
def test_demanded_gpu_that_falls_back_is_an_error(
    facenet_path: Path, provider: str, demanded: str
) -> None:
    runtime = InferenceRuntime(provider)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ModelError) as caught:
            runtime.load(facenet_path, name="facenet")
    message = str(caught.value)
    assert str(facenet_path) in message
    assert demanded in message and "could only start CPUExecutionProvider" in message
    assert runtime.providers_report() == {}


@pytest.mark.usefixtures("cuda_compiled_in")
def test_provider_lists(tmp_path: Path) -> None:
    assert InferenceRuntime("cpu").requested_providers() == [CPU]
    cuda = InferenceRuntime("cuda").requested_providers()
    assert [p[0] if isinstance(p, tuple) else p for p in cuda] == [CUDA, CPU]
    # auto never picks TensorRT, even when it is compiled in
    auto = InferenceRuntime("auto").requested_providers()
    assert [p[0] if isinstance(p, tuple) else p for p in auto] == [CUDA, CPU]
    gpu = GpuOptions(tensorrt_cache_dir=tmp_path)
    trt = InferenceRuntime("tensorrt", gpu=gpu).requested_providers()
    assert [p[0] if isinstance(p, tuple) else p for p in trt] == [TENSORRT, CUDA, CPU]
    assert trt[0] == (
        TENSORRT,
        {
            "device_id": "0",
            "trt_engine_cache_enable": "True",
            "trt_timing_cache_enable": "True",
            "trt_fp16_enable": "False",
            "trt_engine_cache_path": str(tmp_path),
            "trt_timing_cache_path": str(tmp_path),
        },
    )


def test_provider_options_follow_the_config(tmp_path: Path) -> None:
    config = dataclasses.replace(
        FacesConfig(),
        cuda_device=1,
        cuda_arena="next_power_of_two",
        cudnn_conv_algo_search="exhaustive",
        tensorrt_cache_dir=str(tmp_path / "trt"),
        tensorrt_fp16=True,
    )
    options = GpuOptions.from_config(config)
    compiled = [TENSORRT, CUDA, CPU]
    cuda_options = {
        "device_id": "1",
        "cudnn_conv_algo_search": "EXHAUSTIVE",
        "arena_extend_strategy": "kNextPowerOfTwo",
    }
    assert requested_providers("cuda", compiled, options) == [(CUDA, cuda_options), CPU]
    assert requested_providers("tensorrt", compiled, options) == [
        (
            TENSORRT,
            {
                "device_id": "1",
                "trt_engine_cache_enable": "True",
                "trt_timing_cache_enable": "True",
                "trt_fp16_enable": "True",
                "trt_engine_cache_path": str(tmp_path / "trt"),
                "trt_timing_cache_path": str(tmp_path / "trt"),
            },
        ),
        (CUDA, cuda_options),
        CPU,
    ]
    # Without a CUDA build, auto asks for the CPU alone; the GPU options do not matter.
    assert requested_providers("auto", [CPU], options) == [CPU]
    assert requested_providers("cpu", compiled, options) == [CPU]
    defaults = GpuOptions.from_config(FacesConfig()).cuda()
    assert defaults == {
        "device_id": "0",
        "cudnn_conv_algo_search": "HEURISTIC",
        "arena_extend_strategy": "kSameAsRequested",
    }


def test_bad_gpu_options_are_rejected() -> None:
    with pytest.raises(ValueError, match="cuda_arena"):
        GpuOptions(cuda_arena="grow")
    with pytest.raises(ValueError, match="cudnn_conv_algo_search"):
        GpuOptions(cudnn_conv_algo_search="fast")
    with pytest.raises(ValueError, match="io_binding"):
        InferenceRuntime("cpu", io_binding="always")


@pytest.mark.usefixtures("cuda_compiled_in")
def test_tensorrt_cache_folder_is_created(tmp_path: Path, facenet_path: Path) -> None:
    cache = tmp_path / "data" / "trt-cache"
    runtime = InferenceRuntime("tensorrt", gpu=GpuOptions(tensorrt_cache_dir=cache))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # No TensorRT here: the load fails, but only after the cache folder was made.
        with pytest.raises(ModelError, match="TensorrtExecutionProvider"):
            runtime.load(facenet_path, name="facenet")
    assert cache.is_dir()


def test_io_binding_gives_the_same_outputs(tmp_path: Path) -> None:
    paths = build_models(tmp_path)
    plain = InferenceRuntime("cpu")
    bound = InferenceRuntime("cpu", io_binding="on")
    rng = np.random.default_rng(3)
    inputs = {
        "detector": rng.uniform(-1, 1, (1, 3, 320, 320)).astype(np.float32),
        "facenet": rng.uniform(-1, 1, (4, 160, 160, 3)).astype(np.float32),
        "arcface": rng.uniform(-1, 1, (6, 112, 112, 3)).astype(np.float32),
    }
    for name, path in paths.items():
        a = plain.load(path, name=name)
        b = bound.load(path, name=name)
        assert (a.io_binding, b.io_binding) == (False, True)
        assert b.device == "cpu"
        expected = a.run(inputs[name])
        got = b.run(inputs[name])
        assert len(got) == len(expected) == len(a.outputs)
        for want, have in zip(expected, got, strict=True):
            assert have.dtype == want.dtype and have.shape == want.shape
            assert np.array_equal(have, want), name
        # Asking for some outputs binds only those, in the order asked.
        names = a.output_names[::-1][:2]
        for want, have in zip(a.run(inputs[name], names), b.run(inputs[name], names), strict=True):
            assert np.array_equal(have, want), name
    # A non-contiguous input (a view) is fed as its values, not its memory layout.
    view = np.asfortranarray(inputs["facenet"])
    want = plain.load(paths["facenet"], name="facenet").run(view)[0]
    assert np.array_equal(bound.load(paths["facenet"], name="facenet").run(view)[0], want)


def test_io_binding_auto_is_off_on_the_cpu(facenet_path: Path) -> None:
    assert InferenceRuntime("cpu").load(facenet_path, name="facenet").io_binding is False
    off = InferenceRuntime("cpu", io_binding="off")
    assert off.load(facenet_path, name="facenet").io_binding is False


def test_io_binding_errors_name_the_file(facenet_path: Path) -> None:
    session = InferenceRuntime("cpu", io_binding="on").load(facenet_path, name="facenet")
    with pytest.raises(ModelError, match=r"facenet512\.onnx: inference failed"):
        session.run(np.zeros((1, 3, 160, 160), np.float32))
    # The session stays usable after a failed call.
    assert session.run(np.zeros((1, 160, 160, 3), np.float32))[0].shape == (1, 512)


def test_warm_up_runs_each_shape_and_times_it(facenet_path: Path) -> None:
    session = CountingSession(InferenceRuntime("cpu").load(facenet_path, name="facenet"))
    ms = session.warm_up([(2, 160, 160, 3), (8, 160, 160, 3)])
    assert session.calls == [(2, 160, 160, 3), (8, 160, 160, 3)]
    assert ms > 0


def test_warm_up_failure_names_the_file(tmp_path: Path) -> None:
    path = build_failing_embedder(tmp_path / "facenet512.onnx", 160)
    session = InferenceRuntime("cpu").load(path, name="facenet")
    with pytest.raises(ModelError) as caught:
        session.warm_up([(2, 160, 160, 3)])
    message = str(caught.value)
    assert message.startswith("facenet512.onnx: warm-up on a (2,160,160,3) input failed: ")
    assert message.count("facenet512.onnx") == 1


def test_unknown_provider_is_rejected() -> None:
    with pytest.raises(ValueError, match="execution_provider"):
        InferenceRuntime("rocm")


def test_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "arcface.onnx"
    with pytest.raises(ModelError, match=r"arcface\.onnx: model file not found"):
        InferenceRuntime("cpu").load(missing, name="arcface")


@pytest.mark.parametrize("content", [b"", b"not an onnx model at all \x00\x01\x02" * 50])
def test_garbage_file_is_named(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "det_500m.onnx"
    bad.write_bytes(content)
    with pytest.raises(ModelError, match=r"det_500m\.onnx: cannot load ONNX model"):
        InferenceRuntime("cpu").load(bad, name="detector")


def test_check_input_and_output(tmp_path: Path) -> None:
    path = build_signature(
        tmp_path / "facenet512.onnx", {"input": ["N", 3, 160, 160]}, {"out": ["N", 512]}
    )
    session = InferenceRuntime("cpu").load(path, name="facenet")
    session.check_input(("N", 3, 160, 160))
    session.check_output(("N", 512))
    with pytest.raises(ModelError) as caught:
        session.check_input(("N", 160, 160, 3), layout="NHWC")
    assert str(caught.value) == (
        "facenet512.onnx: expected input (N,160,160,3) NHWC, got (N,3,160,160)"
    )
    with pytest.raises(ModelError, match=r"expected output \(N,128\), got \(N,512\)"):
        session.check_output(("N", 128))
    with pytest.raises(ModelError, match="expected at least 2 inputs"):
        session.check_input(("N",), index=1)
    with pytest.raises(ModelError, match="tensor\\(uint8\\)"):
        session.check_input(("N", 3, 160, 160), dtype="tensor(uint8)")


def test_run_errors_name_the_file(facenet_path: Path) -> None:
    session = InferenceRuntime("cpu").load(facenet_path, name="facenet")
    with pytest.raises(ModelError, match=r"facenet512\.onnx: inference failed"):
        session.run(np.zeros((1, 3, 160, 160), np.float32))


def test_close_forgets_sessions(facenet_path: Path) -> None:
    runtime = InferenceRuntime("cpu")
    first = runtime.load(facenet_path, name="facenet")
    runtime.close()
    assert runtime.providers_report() == {}
    assert runtime.load(facenet_path, name="facenet") is not first


def test_heavy_stand_ins_load_and_have_the_real_shapes(tmp_path: Path) -> None:
    paths = build_models(tmp_path, heavy=True)
    runtime = InferenceRuntime("cpu", intra_op_threads=2)
    sessions: dict[str, ModelSession] = {
        name: runtime.load(path, name=name) for name, path in paths.items()
    }
    detector = FaceDetector(sessions["detector"], input_size=320)
    assert detector.detect(np.zeros((240, 320, 3), np.uint8)) == []
    outputs = sessions["detector"].run(np.zeros((1, 3, 320, 320), np.float32))
    assert [o.shape for o in outputs] == [
        (3200, 1), (800, 1), (200, 1), (3200, 4), (800, 4), (200, 4),
        (3200, 10), (800, 10), (200, 10),
    ]  # fmt: skip
    embedder = FaceEmbedder(sessions["facenet"], sessions["arcface"], batch_size=2)
    facenet, arcface = embedder.embed([np.zeros((112, 112, 3), np.uint8)])
    assert facenet.shape == (1, 512) and arcface.shape == (1, 512)
    assert facenet.dtype == np.float32 and arcface.dtype == np.float32
