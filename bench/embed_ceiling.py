"""How close CPU embedding runs to the machine's dense FP32 peak.

Baseline: a square float32 matrix product through numpy's BLAS, the fastest dense FP32
arithmetic this machine offers from Python. Subject: the heavy stand-in embedders (real
signatures, about the real compute) through ONNX Runtime's CPU provider, one batch of
`--faces` faces with mirrors, as the pipeline runs them. Both are reported in GFLOP/s
(2 FLOP per multiply-add) and as a ratio to the baseline; the last line says how long
embedding a scene cannot beat at that rate.

    python bench/embed_ceiling.py [--faces 64] [--repeats 5] [--size 4096]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the model builders live in tests/faces

from tests.faces.models import build_arcface_heavy, build_facenet_heavy, conv_macs  # noqa: E402

OUT = ROOT / "bench" / "out" / "models-heavy"


def _best(run: Callable[[], object], repeats: int) -> float:
    """Return the median seconds of `repeats` runs after one warm-up."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--size", type=int, default=4096, help="matrix edge for the baseline")
    args = parser.parse_args()

    rng = np.random.default_rng(1)
    a = rng.random((args.size, args.size), dtype=np.float32)
    b = rng.random((args.size, args.size), dtype=np.float32)
    sgemm = 2 * args.size**3 / _best(lambda: a @ b, args.repeats) / 1e9

    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    total_flop = 0.0
    for name, builder, edge in (
        ("FaceNet-like 160", build_facenet_heavy, 160),
        ("ArcFace-like 112", build_arcface_heavy, 112),
    ):
        path = OUT / f"ceiling-{edge}.onnx"
        if not path.exists():
            builder(path)
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        feed = {
            session.get_inputs()[0].name: rng.random(
                (2 * args.faces, edge, edge, 3), dtype=np.float32
            )
        }
        seconds = _best(partial(session.run, None, feed), args.repeats)
        flop = 2.0 * conv_macs(path, (edge, edge)) * 2 * args.faces
        total_flop += flop
        rows.append((name, seconds, flop / seconds / 1e9))

    print(
        f"{platform.processor() or platform.machine()}, {ort.__version__=}, numpy {np.__version__}"
    )
    print("| run | seconds | GFLOP/s | ratio to baseline |")
    print("|---|---:|---:|---:|")
    print(f"| baseline: numpy sgemm {args.size}² | - | {sgemm:.0f} | 1.00 |")
    for name, seconds, rate in rows:
        print(
            f"| {name}, {2 * args.faces} images | {seconds:.2f} | {rate:.0f} | {rate / sgemm:.2f} |"
        )
    print(
        f"\nEmbedding {args.faces} faces with mirrors is {total_flop / 1e12:.2f} TFLOP: at least "
        f"{total_flop / sgemm / 1e9:.1f} s at the baseline rate."
    )


if __name__ == "__main__":
    main()
