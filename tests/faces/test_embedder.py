"""FaceEmbedder preprocessing, flip averaging, batching, and the synthetic colour world."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from stash_sense.faces.align import norm_crop
from stash_sense.faces.detector import FaceDetector
from stash_sense.faces.embedder import (
    FaceEmbedder,
    arcface_input,
    average_flips,
    facenet_input,
    fit_square,
)
from stash_sense.faces.runtime import InferenceRuntime, ModelSession
from stash_sense.faces.types import ModelError
from tests.faces.models import (
    PALETTE,
    CountingSession,
    Signature,
    build_arcface,
    build_detector,
    build_facenet,
    build_probe_embedder,
    build_signature,
    palette_vectors,
    solid_crop,
)


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embedder")


@pytest.fixture(scope="module")
def runtime() -> InferenceRuntime:
    return InferenceRuntime("cpu")


@pytest.fixture(scope="module")
def probes(runtime: InferenceRuntime, models_dir: Path) -> tuple[ModelSession, ModelSession]:
    """Flip-sensitive random linear models, so flip averaging and ordering really show."""
    facenet = build_probe_embedder(models_dir / "probe_facenet.onnx", 160, seed=1)
    arcface = build_probe_embedder(models_dir / "probe_arcface.onnx", 112, seed=2)
    return runtime.load(facenet, name="facenet"), runtime.load(arcface, name="arcface")


@pytest.fixture(scope="module")
def synthetic(runtime: InferenceRuntime, models_dir: Path) -> FaceEmbedder:
    facenet = runtime.load(build_facenet(models_dir / "facenet512.onnx"), name="facenet")
    arcface = runtime.load(build_arcface(models_dir / "arcface.onnx"), name="arcface")
    return FaceEmbedder(facenet, arcface)


def random_crops(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (112, 112, 3), dtype=np.uint8) for _ in range(n)]


def cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(1 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# ---------------------------------------------------------------------------------------------
# Preprocessing


def test_fit_square_112_to_160_is_a_plain_inter_area_resize() -> None:
    crop = random_crops(1)[0]
    out = fit_square(crop, 160)
    assert out.shape == (160, 160, 3) and out.dtype == np.float32
    expected = cv2.resize(crop, (160, 160), interpolation=cv2.INTER_AREA).astype(np.float32)
    np.testing.assert_array_equal(out, expected)
    # INTER_AREA upscaling is not bilinear: the reference depends on exactly this filter.
    assert not np.array_equal(out, cv2.resize(crop, (160, 160)).astype(np.float32))
    np.testing.assert_array_equal(fit_square(crop, 112), crop.astype(np.float32))


def test_fit_square_keeps_aspect_and_centres() -> None:
    crop = np.random.default_rng(1).integers(1, 256, (100, 50, 3), dtype=np.uint8)
    out = fit_square(crop, 160)  # factor min(1.6, 3.2) = 1.6 → 160 x 80, offset 40
    expected = cv2.resize(crop, (80, 160), interpolation=cv2.INTER_AREA).astype(np.float32)
    np.testing.assert_array_equal(out[:, 40:120], expected)
    assert np.all(out[:, :40] == 0) and np.all(out[:, 120:] == 0)
    wide = fit_square(np.full((30, 61, 3), 9, np.uint8), 112)  # factor 112/61 → 55 x 112
    assert np.all(wide[28:83] == 9) and np.all(wide[:28] == 0) and np.all(wide[83:] == 0)


def test_normalisation_constants_and_flip_interleaving() -> None:
    crop = np.zeros((112, 112, 3), np.uint8)
    crop[:, :56] = 255  # left half white: the flip puts it on the right
    fn = facenet_input([crop, np.zeros_like(crop)])
    af = arcface_input([crop])
    assert fn.shape == (4, 160, 160, 3) and fn.dtype == np.float32
    assert af.shape == (2, 112, 112, 3) and af.dtype == np.float32
    assert fn[0, 0, 0, 0] == 1.0 and fn[0, 0, -1, 0] == -1.0  # (x - 127.5)/127.5
    assert fn[1, 0, 0, 0] == -1.0 and fn[1, 0, -1, 0] == 1.0  # flipped
    assert np.all(fn[2:] == -1.0)
    assert af[0, 0, 0, 0] == 0.99609375 and af[0, 0, -1, 0] == -0.99609375  # (x - 127.5)/128
    np.testing.assert_array_equal(af[1], af[0][:, ::-1])


def test_flip_is_taken_before_resizing() -> None:
    crop = random_crops(1, seed=4)[0]
    batch = facenet_input([crop])
    flipped = cv2.resize(
        np.ascontiguousarray(crop[:, ::-1]), (160, 160), interpolation=cv2.INTER_AREA
    )
    np.testing.assert_array_equal(batch[1], (flipped.astype(np.float32) - 127.5) / 127.5)


def test_average_flips_of_raw_outputs() -> None:
    raw = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.testing.assert_array_equal(average_flips(raw), [[1.5, 2.5, 3.5], [7.5, 8.5, 9.5]])


# ---------------------------------------------------------------------------------------------
# Embedding with real sessions


def test_flip_averaging_equals_manual_computation(
    probes: tuple[ModelSession, ModelSession],
) -> None:
    facenet, arcface = probes
    crops = random_crops(3, seed=7)
    fn, af = FaceEmbedder(facenet, arcface, batch_size=8).embed(crops)
    assert fn.shape == (3, 512) and af.shape == (3, 512)
    assert fn.dtype == np.float32 and af.dtype == np.float32
    for i, crop in enumerate(crops):
        mirror = np.ascontiguousarray(crop[:, ::-1])
        for session, size, scale, got in ((facenet, 160, 127.5, fn), (arcface, 112, 128.0, af)):
            pair = np.stack([fit_square(crop, size), fit_square(mirror, size)])
            out = session.run((pair - np.float32(127.5)) / np.float32(scale))[0]
            np.testing.assert_allclose(got[i], (out[0] + out[1]) / 2, rtol=1e-5, atol=1e-4)
            # Raw: no L2 normalisation, and the flip really changes this model's output.
            assert abs(float(np.linalg.norm(got[i])) - 1.0) > 0.1
            assert not np.allclose(out[0], out[1])


@pytest.mark.parametrize(("count", "calls"), [(1, [1]), (4, [4]), (5, [4, 1]), (9, [4, 4, 1])])
def test_one_call_per_model_per_batch(
    probes: tuple[ModelSession, ModelSession], count: int, calls: list[int]
) -> None:
    facenet, arcface = (CountingSession(s) for s in probes)
    embedder = FaceEmbedder(facenet, arcface, batch_size=4)
    crops = random_crops(count, seed=count)
    fn, af = embedder.embed(crops)
    assert facenet.calls == [(2 * n, 160, 160, 3) for n in calls]
    assert arcface.calls == [(2 * n, 112, 112, 3) for n in calls]
    # Batching does not change the results or their order.
    singles = [FaceEmbedder(*probes, batch_size=1).embed([c]) for c in crops]
    np.testing.assert_allclose(fn, np.concatenate([s[0] for s in singles]), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(af, np.concatenate([s[1] for s in singles]), rtol=1e-5, atol=1e-4)


def test_empty_input_makes_no_calls(probes: tuple[ModelSession, ModelSession]) -> None:
    facenet, arcface = (CountingSession(s) for s in probes)
    fn, af = FaceEmbedder(facenet, arcface).embed([])
    assert fn.shape == (0, 512) and af.shape == (0, 512)
    assert fn.dtype == np.float32 and af.dtype == np.float32
    assert facenet.calls == [] and arcface.calls == []


def test_bad_crops_and_batch_size(probes: tuple[ModelSession, ModelSession]) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        FaceEmbedder(*probes, batch_size=0)
    with pytest.raises(ValueError, match="H x W x 3"):
        FaceEmbedder(*probes).embed([np.zeros((112, 112), np.uint8)])


# ---------------------------------------------------------------------------------------------
# Signature checks


def load(tmp_path: Path, name: str, inputs: Signature, outputs: Signature) -> ModelSession:
    path = build_signature(tmp_path / name, inputs, outputs)
    return InferenceRuntime("cpu").load(path, name=name)


def test_nchw_facenet_is_rejected_with_the_file_named(
    tmp_path: Path, probes: tuple[ModelSession, ModelSession]
) -> None:
    wrong = load(tmp_path, "facenet512.onnx", {"input": ["N", 3, 160, 160]}, {"out": ["N", 512]})
    with pytest.raises(ModelError) as caught:
        FaceEmbedder(wrong, probes[1])
    assert str(caught.value) == (
        "facenet512.onnx: expected input (N,160,160,3) NHWC, got (N,3,160,160)"
    )


@pytest.mark.parametrize(
    ("inputs", "outputs", "message"),
    [
        ({"input": ["N", 160, 160, 3]}, {"out": ["N", 512]}, r"expected input \(N,112,112,3\)"),
        ({"input": [2, 112, 112, 3]}, {"out": [2, 512]}, "dynamic batch N, got a fixed 2"),
        ({"input": ["N", 112, 112, 3]}, {"out": ["N", 128]}, r"expected output \(N,512\)"),
        ({"input": ["N", 112, 112, 3]}, {"out": ["N", 8, 512]}, r"got \(N,8,512\)"),
    ],
)
def test_wrong_arcface_signatures(
    tmp_path: Path,
    probes: tuple[ModelSession, ModelSession],
    inputs: Signature,
    outputs: Signature,
    message: str,
) -> None:
    wrong = load(tmp_path, "arcface.onnx", inputs, outputs)
    with pytest.raises(ModelError, match=message) as caught:
        FaceEmbedder(probes[0], wrong)
    assert str(caught.value).startswith("arcface.onnx: ")


# ---------------------------------------------------------------------------------------------
# The synthetic world of tests/faces/models.py


def test_palette_colours_map_to_their_vectors(synthetic: FaceEmbedder) -> None:
    names = list(PALETTE)
    fn, af = synthetic.embed([solid_crop(PALETTE[n]) for n in names])
    for model, got in (("facenet", fn), ("arcface", af)):
        vectors = palette_vectors(model)
        for i, name in enumerate(names):
            np.testing.assert_allclose(got[i], vectors[name], atol=1e-4)
            assert np.linalg.norm(got[i]) == pytest.approx(10.0, abs=1e-3)
    joined = np.concatenate([fn, af], axis=1)
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            assert cosine_distance(joined[i], joined[j]) > 0.95
            assert cosine_distance(fn[i], fn[j]) > 0.95 and cosine_distance(af[i], af[j]) > 0.95


def test_detect_align_embed_identifies_colours(
    synthetic: FaceEmbedder, runtime: InferenceRuntime, models_dir: Path
) -> None:
    detector = FaceDetector(
        runtime.load(build_detector(models_dir / "det_500m.onnx"), name="detector")
    )
    frame = np.full((720, 1280, 3), 50, np.uint8)
    frame[100:228, 100:228] = PALETTE["orange"]
    frame[400:520, 700:820] = PALETTE["purple"]
    # A slightly off colour (as after video coding) still lands on its palette vector.
    frame[300:400, 1000:1100] = (250, 6, 3)
    found = detector.detect(frame)
    assert len(found) == 3
    fn, af = synthetic.embed([norm_crop(frame, d.landmarks) for d in found])
    vectors = palette_vectors("facenet")
    names = [max(vectors, key=lambda n: float(row @ vectors[n])) for row in fn]
    by_box = dict(zip((d.box[:2] for d in found), names, strict=True))
    assert by_box == {(100.0, 100.0): "orange", (700.0, 400.0): "purple", (1000.0, 300.0): "red"}
    red = fn[names.index("red")]
    assert cosine_distance(red, vectors["red"]) < 0.01
    assert af.shape == (3, 512)
