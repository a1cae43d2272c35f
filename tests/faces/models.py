"""Small ONNX models with the real signatures of the face models, built with onnx.helper.

The synthetic world
===================

A "face" is a solid, saturated coloured square on an unsaturated background (grey, black, white,
any R = G = B colour; the black/white bar code of ``tests/faces/videos.py`` is ignored too).

Detector (``build_detector``, stands in for insightface ``det_500m.onnx``)
    Input ``input.1`` (1,3,H,W) NCHW float32 with dynamic H/W like the real model; 9 outputs in
    the real order score_8, score_16, score_32, bbox_8, bbox_16, bbox_32, kps_8, kps_16, kps_32
    with the real shapes (H/s·W/s·2, 1|4|10). It works on saturation, max - min over the
    channels, so the swapRB channel-order quirk does not matter:

    * a pixel belongs to a face when its saturation is above ``SATURATION_THRESHOLD`` (80 of 255);
      squares need saturation ≥ 120 (every ``PALETTE`` colour has 255), the background < 40;
    * each anchor lying on a face pixel scores ``sigmoid(4·(sat/128 - 0.625))``: 0.996 for a
      ``PALETTE`` colour, 0.92 for saturation 160; everything else scores exactly 0;
    * its box runs from the anchor along its own row and column to the first non-face pixel on
      each side (clipped to the input), so every anchor of a square predicts the same box and
      NMS leaves exactly one detection whose box is the square: exact when its edges fall on
      whole detector pixels, else within 1/det_scale frame pixels (resize blur at the edges);
    * the 5 landmarks sit at the ArcFace-template proportions of that box, so ``norm_crop``
      maps the square onto the whole 112x112 crop.

    Sizes are in **detector pixels**: the frame is letterboxed into SxS (S = detection size,
    640 by default), so a frame square of side L becomes L·det_scale, det_scale = S / max(w, h)
    (0.5 for 1280x720, 2.0 for 320x240 at S = 640). Squares must be 8..``DETECTOR_REACH`` (256)
    detector pixels (16..512 frame pixels in 1280x720; 4..128 in 320x240; mind the daemon's
    40-px minimum face size) and must not touch one another (a few background pixels between
    them suffice). Squares cut by the frame border give the visible part as the box. Other
    shapes give one box per anchor row/column and are not part of the contract.

Embedders (``build_facenet`` / ``build_arcface``, stand in for DeepFace FaceNet512 / ArcFace)
    Input ``input`` NHWC (N,160,160,3) / (N,112,112,3) float32 with dynamic N; output (N,512).
    Each model undoes its normalisation, averages the RGB colour of the central half of the crop,
    and gives a softmax over its distance to ``PALETTE`` (plus grey, black and white) times a
    fixed orthonormal 512-d vector per colour (x10, a different seed per model). So:

    * the same colour gives (nearly) the same vector, flipped or not (the mean ignores mirroring);
    * two different ``PALETTE`` colours give orthogonal vectors: cosine distance ≈ 1.0, well
      above the 0.6 clustering threshold, in each model and in the concatenated 1024-d vector;
    * ``palette_vectors(model)[name]`` is the raw vector for a pure ``PALETTE`` colour, which is
      what ``FaceEmbedder`` returns (to ~1e-6) for a square of that colour.

Heavy stand-ins (``build_*_heavy``) have the real signatures and roughly the real compute
(multiply-accumulates: detector ~0.54 G at 640x640, FaceNet ~1.5 G per 160-px image, ArcFace
~5.3 G per 112-px image; ``conv_macs`` recounts them), with random weights, for benchmarks; their
outputs mean nothing and the detector finds nothing.

Helpers: ``build_models(dir, heavy=False)`` writes det_500m.onnx, facenet512.onnx and arcface.onnx;
``solid_crop(colour)``; ``build_probe_embedder`` (flip-sensitive random linear embedder);
``build_signature`` (any signature, for wrong-shape tests); ``build_failing_embedder`` (a valid
signature whose runs fail); ``CountingSession`` (a real ModelSession that records each call's
input shape).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from stash_sense.faces.align import ARCFACE_TEMPLATE
from stash_sense.faces.runtime import ModelSession

OPSET = 17
IR_VERSION = 8

Colour = tuple[int, int, int]

# Colours of the synthetic faces; any two differ by ≥ 127 in some channel.
PALETTE: dict[str, Colour] = {
    "red": (255, 0, 0),
    "green": (0, 255, 0),
    "blue": (0, 0, 255),
    "yellow": (255, 255, 0),
    "magenta": (255, 0, 255),
    "cyan": (0, 255, 255),
    "orange": (255, 128, 0),
    "purple": (128, 0, 255),
}
# Extra prototypes so a background-coloured crop does not look like a palette face.
NEUTRALS: dict[str, Colour] = {
    "grey": (128, 128, 128),
    "black": (0, 0, 0),
    "white": (255, 255, 255),
}

SATURATION_THRESHOLD = 80
DETECTOR_REACH = 256  # detector pixels scanned from an anchor for the edges of its square
EMBEDDING_SCALE = 10.0  # norm of a pure palette vector
COLOUR_SIGMA = 30.0  # RGB units; palette colours are ≥ 127 apart, so the softmax is ~one-hot
_SEEDS = {"facenet": 512160, "arcface": 512112}
_BIG = 4096.0  # larger than any input side; turns "min coordinate" into a max


class _Graph:
    """Accumulate nodes and initialisers with generated names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def _name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._count}"

    def const(self, value: npt.ArrayLike, dtype: Any = np.float32) -> str:
        """Add a constant tensor and return its name."""
        name = self._name("const")
        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, *inputs: str, output: str | None = None, **attrs: Any) -> str:
        """Add one node and return the name of its (single) output."""
        out = output or self._name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def save(
        self,
        path: Path,
        name: str,
        inputs: Sequence[onnx.ValueInfoProto],
        outputs: Sequence[onnx.ValueInfoProto],
    ) -> Path:
        """Check the model and write it to path."""
        graph = helper.make_graph(self.nodes, name, list(inputs), list(outputs), self.initializers)
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="stash-sense-tests",
        )
        model.ir_version = IR_VERSION
        onnx.checker.check_model(model)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        onnx.save(model, str(path))
        return path


# --------------------------------------------------------------------------------------------
# Detector


def _rows_dim(input_size: int | None, stride: int) -> int | None:
    """Rows of one stride's outputs: fixed for a fixed input, unknown for a dynamic one."""
    return None if input_size is None else (input_size // stride) ** 2 * 2


def _flatten_anchors(
    g: _Graph, feature: str, width: int, output: str, *, batched: bool = False
) -> str:
    """(N, 2·width, h, w) with anchor-major channels → (h·w·2, width) rows in SCRFD order.

    `batched` keeps the batch axis: (N, h·w·2, width), as batch exports of SCRFD give.
    """
    nhwc = g.op("Transpose", feature, perm=[0, 2, 3, 1])
    shape = [0, -1, width] if batched else [-1, width]
    return g.op("Reshape", nhwc, g.const(shape, np.int64), output=output)


def _head_weights(
    stride: int,
) -> dict[str, tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]]:
    """1x1 conv weights turning (score, cx, cy, x1, y1, x2, y2) into SCRFD outputs at one stride.

    Distances are (cx - x1, cy - y1, x2 - cx, y2 - cy) / stride and landmark k is
    (x1 + a_k·(x2 - x1) - cx, y1 + b_k·(y2 - y1) - cy) / stride, all linear in the features.
    """
    s = float(stride)
    bbox = np.zeros((4, 7), np.float32)
    bbox[0, 1], bbox[0, 3] = 1 / s, -1 / s
    bbox[1, 2], bbox[1, 4] = 1 / s, -1 / s
    bbox[2, 5], bbox[2, 1] = 1 / s, -1 / s
    bbox[3, 6], bbox[3, 2] = 1 / s, -1 / s
    kps = np.zeros((10, 7), np.float32)
    for k, (a, b) in enumerate(ARCFACE_TEMPLATE.astype(np.float64) / 112.0):
        kps[2 * k, [3, 5, 1]] = (1 - a) / s, a / s, -1 / s
        kps[2 * k + 1, [4, 6, 2]] = (1 - b) / s, b / s, -1 / s
    score = np.zeros((1, 7), np.float32)
    score[0, 0] = 1.0

    def two_anchors(w: npt.NDArray[np.float32]) -> Any:
        # Both anchors of a cell predict the same thing; channels are anchor-major.
        both = np.concatenate([w, w])
        return both[:, :, None, None], np.zeros(len(both), np.float32)

    return {"score": two_anchors(score), "bbox": two_anchors(bbox), "kps": two_anchors(kps)}


def build_detector(
    path: Path,
    *,
    input_size: int | None = None,
    reach: int = DETECTOR_REACH,
    batched: bool = False,
) -> Path:
    """Write the synthetic SCRFD detector ("fires on coloured squares") to path.

    `batched`: a dynamic batch axis N on the input and (N, rows, width) outputs.
    """
    g = _Graph()
    x = "input.1"
    # Saturation in normalised units: (max - min)/128, the same whatever the channel order.
    sat = g.op(
        "Sub",
        g.op("ReduceMax", x, axes=[1], keepdims=1),
        g.op("ReduceMin", x, axes=[1], keepdims=1),
    )
    centred = g.op("Sub", sat, g.const(SATURATION_THRESHOLD / 128.0))
    # Gain 200 makes the mask 0 or 1 except within ~3 levels of the threshold.
    mask = g.op("Sigmoid", g.op("Mul", centred, g.const(200.0)))
    score = g.op("Mul", mask, g.op("Sigmoid", g.op("Mul", centred, g.const(4.0))))
    background = g.op("Sub", g.const(1.0), mask)
    ones = g.op(
        "ConstantOfShape",
        g.op("Shape", sat),
        value=helper.make_tensor("value", TensorProto.FLOAT, [1], [1.0]),
    )
    # Column/row numbers 1..W / 1..H: the exclusive right/bottom edge of each pixel.
    col1 = g.op("CumSum", ones, g.const(3, np.int64))
    row1 = g.op("CumSum", ones, g.const(2, np.int64))
    big1 = g.const(_BIG + 1.0)
    span = reach + 1

    def pool(value: str, kernel: list[int], pads: list[int]) -> str:
        # One output per stride-8 anchor: a window along the anchor's own row or column.
        return g.op("MaxPool", value, kernel_shape=kernel, strides=[8, 8], pads=pads)

    # Scanning outwards from the anchor to the first background pixel on each side keeps
    # neighbouring squares apart, whatever their distance.
    x1 = pool(g.op("Mul", background, col1), [1, span], [0, reach, 0, 0])
    y1 = pool(g.op("Mul", background, row1), [span, 1], [reach, 0, 0, 0])
    first_right = pool(
        g.op("Mul", background, g.op("Sub", big1, col1)), [1, span], [0, 0, 0, reach]
    )
    first_down = pool(g.op("Mul", background, g.op("Sub", big1, row1)), [span, 1], [0, 0, reach, 0])
    big = g.const(_BIG)
    # No background before the border (a square touching it): stop at the border.
    x2 = g.op("Min", g.op("Sub", big, first_right), g.op("ReduceMax", col1, keepdims=1))
    y2 = g.op("Min", g.op("Sub", big, first_down), g.op("ReduceMax", row1, keepdims=1))
    anchors = pool(
        g.op(
            "Concat",
            score,
            g.op("Sub", col1, g.const(1.0)),
            g.op("Sub", row1, g.const(1.0)),
            axis=1,
        ),
        [1, 1],
        [0, 0, 0, 0],
    )
    # (score, cx, cy, x1, y1, x2, y2) at every stride-8 anchor
    features = {8: g.op("Concat", anchors, x1, y1, x2, y2, axis=1)}
    for stride in (16, 32):
        # Anchors of coarser strides sit on every 2nd / 4th stride-8 anchor.
        features[stride] = g.op(
            "MaxPool", features[8], kernel_shape=[1, 1], strides=[stride // 8, stride // 8]
        )
    outputs: list[onnx.ValueInfoProto] = []
    for kind, width in (("score", 1), ("bbox", 4), ("kps", 10)):
        for stride in (8, 16, 32):
            weight, bias = _head_weights(stride)[kind]
            head = g.op("Conv", features[stride], g.const(weight), g.const(bias))
            name = f"{kind}_{stride}"
            _flatten_anchors(g, head, width, name, batched=batched)
            shape: list[int | str | None] = [_rows_dim(input_size, stride), width]
            outputs.append(
                helper.make_tensor_value_info(
                    name, TensorProto.FLOAT, ["N", *shape] if batched else shape
                )
            )
    side = input_size  # None → dynamic H/W like the real det_500m
    batch: int | str = "N" if batched else 1
    inputs = [helper.make_tensor_value_info(x, TensorProto.FLOAT, [batch, 3, side, side])]
    return g.save(path, "synthetic_scrfd", inputs, outputs)


# --------------------------------------------------------------------------------------------
# Embedders


def _prototypes() -> tuple[list[str], npt.NDArray[np.float32]]:
    """Names and RGB values of the colours the embedders tell apart."""
    table = {**PALETTE, **NEUTRALS}
    return list(table), np.array(list(table.values()), dtype=np.float32)


def _basis(model: str) -> npt.NDArray[np.float32]:
    """Orthonormal 512-d vectors, one per prototype colour, scaled to EMBEDDING_SCALE."""
    names, _ = _prototypes()
    rng = np.random.default_rng(_SEEDS[model])
    q, _ = np.linalg.qr(rng.standard_normal((512, len(names))))
    return (q.T * EMBEDDING_SCALE).astype(np.float32)


def palette_vectors(model: str) -> dict[str, npt.NDArray[np.float32]]:
    """Return the raw embedding ("facenet" or "arcface") of a crop of each prototype colour."""
    names, _ = _prototypes()
    return dict(zip(names, _basis(model), strict=True))


def _build_embedder(path: Path, size: int, scale: float, model: str) -> Path:
    """Write a colour-to-vector embedder with input (N,size,size,3) NHWC and output (N,512)."""
    g = _Graph()
    x = "input"
    lo, hi = size // 4, size - size // 4
    centre = g.op(
        "Slice",
        x,
        g.const([lo, lo], np.int64),
        g.const([hi, hi], np.int64),
        g.const([1, 2], np.int64),
    )
    mean = g.op("ReduceMean", centre, axes=[1, 2], keepdims=0)  # (N,3), normalised units
    rgb = g.op("Add", g.op("Mul", mean, g.const(scale)), g.const(127.5))
    _, prototypes = _prototypes()
    diff = g.op("Sub", g.op("Unsqueeze", rgb, g.const([1], np.int64)), g.const(prototypes))
    dist2 = g.op("ReduceSumSquare", diff, axes=[2], keepdims=0)  # (N,K)
    weights = g.op("Softmax", g.op("Mul", dist2, g.const(-1.0 / COLOUR_SIGMA**2)), axis=1)
    g.op("MatMul", weights, g.const(_basis(model)), output="embedding")
    inputs = [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["N", size, size, 3])]
    outputs = [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 512])]
    return g.save(path, f"synthetic_{model}", inputs, outputs)


def build_facenet(path: Path) -> Path:
    """Write the synthetic FaceNet512: NHWC (N,160,160,3) normalised (x - 127.5)/127.5 → (N,512)."""
    return _build_embedder(path, 160, 127.5, "facenet")


def build_arcface(path: Path) -> Path:
    """Write the synthetic ArcFace: NHWC (N,112,112,3) normalised (x - 127.5)/128 → (N,512)."""
    return _build_embedder(path, 112, 128.0, "arcface")


def build_models(directory: Path, *, heavy: bool = False) -> dict[str, Path]:
    """Write det_500m.onnx, facenet512.onnx and arcface.onnx into directory."""
    directory = Path(directory)
    if heavy:
        return {
            "detector": build_detector_heavy(directory / "det_500m.onnx"),
            "facenet": build_facenet_heavy(directory / "facenet512.onnx"),
            "arcface": build_arcface_heavy(directory / "arcface.onnx"),
        }
    return {
        "detector": build_detector(directory / "det_500m.onnx"),
        "facenet": build_facenet(directory / "facenet512.onnx"),
        "arcface": build_arcface(directory / "arcface.onnx"),
    }


def solid_crop(colour: Colour, size: int = 112) -> npt.NDArray[np.uint8]:
    """Return an aligned-crop-sized image of one colour."""
    crop = np.empty((size, size, 3), dtype=np.uint8)
    crop[:] = colour
    return crop


def build_probe_embedder(path: Path, size: int, *, seed: int = 7) -> Path:
    """Write a flip-sensitive random linear embedder (8x8 average pool → MatMul) for tests."""
    rng = np.random.default_rng(seed)
    g = _Graph()
    nchw = g.op("Transpose", "input", perm=[0, 3, 1, 2])
    pooled = g.op("AveragePool", nchw, kernel_shape=[size // 8] * 2, strides=[size // 8] * 2)
    flat = g.op("Flatten", pooled, axis=1)  # (N, 3·8·8)
    g.op("MatMul", flat, g.const(rng.standard_normal((192, 512))), output="embedding")
    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", size, size, 3])]
    outputs = [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 512])]
    return g.save(path, "probe_embedder", inputs, outputs)


def build_failing_embedder(path: Path, size: int) -> Path:
    """Write an embedder with a valid signature whose every run fails (a bad Reshape inside).

    The input is reshaped to 7 rows, which fails unless its element count is a multiple of 7
    (N·size·size·3 is not for any N < 7 at sizes 112 and 160).
    """
    g = _Graph()
    rows = g.op("Reshape", "input", g.const([7, -1], np.int64))
    g.op("Reshape", rows, g.const([-1, 512], np.int64), output="embedding")
    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", size, size, 3])]
    outputs = [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 512])]
    return g.save(path, "failing_embedder", inputs, outputs)


Shape = Sequence[int | str | None]
Signature = Mapping[str, Shape]  # tensor name → shape (str/None: dynamic)


def build_signature(path: Path, inputs: Signature, outputs: Signature) -> Path:
    """Write a valid model with the given input/output signature (float32) and no real compute.

    Each output is the mean of the first input broadcast to the output shape, its dynamic dims
    taking the first input's first dim: enough to test signature checks on "wrong-shaped" models.
    """
    g = _Graph()
    first = next(iter(inputs))
    mean = g.op("ReduceMean", first, keepdims=0)
    batch = g.op("Slice", g.op("Shape", first), g.const([0], np.int64), g.const([1], np.int64))
    for name, shape in outputs.items():
        dims = [g.const([dim], np.int64) if isinstance(dim, int) else batch for dim in shape]
        g.op("Expand", mean, g.op("Concat", *dims, axis=0), output=name)
    return g.save(
        path,
        "signature",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s)) for n, s in inputs.items()],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s)) for n, s in outputs.items()],
    )


# --------------------------------------------------------------------------------------------
# Heavy stand-ins: real signatures, roughly real compute (multiply-accumulates), random weights


def _conv(
    g: _Graph,
    x: str,
    rng: np.random.Generator,
    c_in: int,
    c_out: int,
    *,
    kernel: int = 3,
    stride: int = 1,
    relu: bool = True,
    bias: float = 0.0,
) -> str:
    """Add a He-initialised conv (same padding) with an optional ReLU."""
    std = np.sqrt(2.0 / (c_in * kernel * kernel))
    weight = rng.standard_normal((c_out, c_in, kernel, kernel)) * std
    out = g.op(
        "Conv",
        x,
        g.const(weight),
        g.const(np.full(c_out, bias)),
        kernel_shape=[kernel, kernel],
        strides=[stride, stride],
        pads=[kernel // 2] * 4,
    )
    return g.op("Relu", out) if relu else out


def _stack(
    g: _Graph, x: str, rng: np.random.Generator, plan: Sequence[tuple[int, int, int]], c_in: int
) -> tuple[str, int]:
    """Add convs from a plan of (channels, stride, repeats); return the output and its channels."""
    for channels, stride, repeats in plan:
        for i in range(repeats):
            x = _conv(g, x, rng, c_in, channels, stride=stride if i == 0 else 1)
            c_in = channels
    return x, c_in


def build_detector_heavy(path: Path) -> Path:
    """Write a det_500m-shaped detector with random weights and ~0.54 G MACs at 640x640.

    SCRFD-500M is 0.5 G at 640x480, about 0.67 G at 640x640.
    """
    rng = np.random.default_rng(500)
    g = _Graph()
    x, c = _stack(g, "input.1", rng, [(16, 2, 1), (16, 2, 2), (40, 2, 2)], 3)
    levels = {8: (x, c)}
    x, c = _stack(g, x, rng, [(80, 2, 2)], c)
    levels[16] = (x, c)
    x, c = _stack(g, x, rng, [(128, 2, 2)], c)
    levels[32] = (x, c)
    outputs = []
    for kind, width in (("score", 1), ("bbox", 4), ("kps", 10)):
        for stride in (8, 16, 32):
            feat, channels = levels[stride]
            # A strongly negative score bias keeps random outputs below the threshold, as on a
            # frame without faces, so NMS does not dominate a benchmark.
            head = _conv(
                g,
                feat,
                rng,
                channels,
                2 * width,
                kernel=1,
                relu=False,
                bias=-8.0 if kind == "score" else 0.0,
            )
            if kind == "score":
                head = g.op("Sigmoid", head)
            _flatten_anchors(g, head, width, f"{kind}_{stride}")
            outputs.append(
                helper.make_tensor_value_info(f"{kind}_{stride}", TensorProto.FLOAT, [None, width])
            )
    inputs = [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, None, None])]
    return g.save(path, "heavy_scrfd", inputs, outputs)


def _build_heavy_embedder(
    path: Path, size: int, plan: Sequence[tuple[int, int, int]], seed: int, name: str
) -> Path:
    """Write an NHWC (N,size,size,3) → (N,512) conv stack with random weights."""
    rng = np.random.default_rng(seed)
    g = _Graph()
    nchw = g.op("Transpose", "input", perm=[0, 3, 1, 2])
    x, c = _stack(g, nchw, rng, plan, 3)
    pooled = g.op("Flatten", g.op("GlobalAveragePool", x), axis=1)
    weight = rng.standard_normal((c, 512)) / np.sqrt(c)
    g.op("MatMul", pooled, g.const(weight), output="embedding")
    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", size, size, 3])]
    outputs = [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 512])]
    return g.save(path, name, inputs, outputs)


def build_facenet_heavy(path: Path) -> Path:
    """Write a FaceNet512-shaped embedder with random weights and ~1.5 G MACs per face."""
    plan = [(32, 2, 1), (64, 1, 3), (96, 2, 2), (192, 2, 3), (384, 2, 3), (512, 2, 1)]
    return _build_heavy_embedder(path, 160, plan, 1600, "heavy_facenet")


def build_arcface_heavy(path: Path) -> Path:
    """Write an ArcFace-shaped embedder with random weights and ~5 G MACs per face."""
    plan = [(64, 1, 1), (88, 1, 2), (128, 2, 4), (192, 2, 5), (256, 2, 6), (512, 2, 2)]
    return _build_heavy_embedder(path, 112, plan, 1120, "heavy_arcface")


def conv_macs(path: Path, input_hw: tuple[int, int]) -> int:
    """Estimate a model's Conv multiply-accumulates for one image of the given size."""
    model = onnx.load(str(path))
    shapes = {init.name: tuple(init.dims) for init in model.graph.initializer}
    h, w = input_hw
    total = 0
    # The stand-ins are plain chains: track the spatial size through each strided conv.
    sizes: dict[str, tuple[int, int]] = {}
    first = model.graph.input[0].name
    sizes[first] = (h, w)
    for node in model.graph.node:
        src = sizes.get(node.input[0]) if node.input else None
        if node.op_type == "Conv" and src is not None:
            stride = next((a.ints[0] for a in node.attribute if a.name == "strides"), 1)
            out = (-(-src[0] // stride), -(-src[1] // stride))
            c_out, c_in, kh, kw = shapes[node.input[1]]
            total += out[0] * out[1] * c_out * c_in * kh * kw
            sizes[node.output[0]] = out
        elif src is not None:
            sizes[node.output[0]] = src
    return total


# --------------------------------------------------------------------------------------------
# Session helpers for tests


class CountingSession(ModelSession):
    """A real ModelSession that records the input shape of every call."""

    def __init__(self, inner: ModelSession) -> None:
        super().__init__(inner.session, path=inner.path, name=inner.name)
        self.calls: list[tuple[int, ...]] = []

    def run(
        self,
        inputs: Mapping[str, npt.NDArray[Any]] | npt.NDArray[Any],
        output_names: Sequence[str] | None = None,
    ) -> list[npt.NDArray[Any]]:
        """Record the first input's shape, then run the model."""
        first = inputs if isinstance(inputs, np.ndarray) else next(iter(inputs.values()))
        self.calls.append(tuple(first.shape))
        return super().run(inputs, output_names)
