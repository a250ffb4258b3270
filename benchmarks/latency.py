"""onnxruntime CPU latency of pruned models against the original, with and without --round-to 8.

The models are run interleaved (A, B, C, A, B, C, ...) so that machine noise hits them alike; medians are printed
with the ratio to the original. Run: python benchmarks/latency.py [--runs 60]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

import onnxfpgm

ROOT = Path(__file__).resolve().parents[1]
MODELS = {"mobilenetv2": "A.MobileNetV2()", "resnet50": "A.resnet50()", "densenet121": "A.densenet121()"}


def export(expr: str, path: Path) -> None:
    code = (f"import sys; sys.path.insert(0, sys.argv[1]); import architectures as A; "
            f"A.export({expr}, sys.argv[2], (1, 3, 224, 224), opset=17)")
    subprocess.run([sys.executable, "-c", code, str(ROOT / "models"), str(path)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    print(f"{'model':<14} {'original':>9} {'0.3':>16} {'0.3 round-to 8':>16}  (median ms, ratio to original)")
    with tempfile.TemporaryDirectory() as tmp:
        for name, expr in MODELS.items():
            path = Path(tmp) / f"{name}.onnx"
            export(expr, path)
            variants = [path.read_bytes()]
            for round_to in (1, 8):
                model, _ = onnxfpgm.prune(str(path), ratio=0.3, round_to=round_to, validate=False)
                variants.append(model.SerializeToString())
            sessions = [ort.InferenceSession(v, providers=["CPUExecutionProvider"]) for v in variants]
            times: list[list[float]] = [[] for _ in sessions]
            for s in sessions:
                for _ in range(3):
                    s.run(None, {"input": x})
            for _ in range(args.runs):
                for s, bucket in zip(sessions, times):
                    start = time.perf_counter()
                    s.run(None, {"input": x})
                    bucket.append((time.perf_counter() - start) * 1000)
            med = [statistics.median(t) for t in times]
            print(f"{name:<14} {med[0]:>9.2f} {med[1]:>8.2f} ({med[1] / med[0]:.2f}x) "
                  f"{med[2]:>8.2f} ({med[2] / med[0]:.2f}x)")


if __name__ == "__main__":
    main()
