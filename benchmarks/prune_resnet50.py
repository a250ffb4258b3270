"""Whole-prune speed and memory on an exported ResNet-50 (random weights, opset 17, about 100 MB).

Each measurement runs in a fresh process, so its peak resident memory is its own. Printed side by side:
`onnx.load` + `onnx.save` of the file, `onnxfpgm prune --no-validate`, and `onnxfpgm prune` with validation;
times as ratios over load + save, peak memory as a ratio over the file size and over an idle interpreter that
imported the same packages. Run: python benchmarks/prune_resnet50.py [--cache DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
mode, src, dst = sys.argv[1:4]
import onnx
import onnxfpgm
import onnxfpgm.api
from onnxfpgm.io import load_model, save_model
def hwm_kb():  # this process's own peak RSS (ru_maxrss would include the parent's, inherited across exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
base = hwm_kb()
start = time.perf_counter()
if mode == "loadsave":
    onnx.save(onnx.load(src), dst)
elif mode == "idle":
    pass
else:  # what `onnxfpgm prune` does between parsing its options and printing its summary
    model, data, report = onnxfpgm.api.prune_serialized(src, ratio=0.3, validate=(mode == "validate"))
    save_model(model, dst, data)
elapsed = time.perf_counter() - start
peak = hwm_kb()
print(json.dumps({"seconds": elapsed, "peak_kb": peak, "base_kb": base}))
"""


def export(path: Path) -> None:
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import architectures as A; "
            "A.export(A.resnet50(), sys.argv[2], (1, 3, 224, 224), opset=17)")
    subprocess.run([sys.executable, "-c", code, str(ROOT / "models"), str(path)], check=True)


def measure(mode: str, src: Path, dst: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(src), str(dst)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "onnxfpgm-bench"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    src = cache / "resnet50_opset17.onnx"
    if not src.exists():
        export(src)
    size_mb = src.stat().st_size / 1e6
    rows = {}
    for mode in ("idle", "loadsave", "no_validate", "validate"):
        runs = [measure(mode, src, cache / f"out_{mode}.onnx") for _ in range(args.repeat)]
        rows[mode] = min(runs, key=lambda r: r["seconds"])
    base = rows["loadsave"]["seconds"]
    idle_mb = rows["idle"]["peak_kb"] / 1024
    print(f"ResNet-50, {size_mb:.1f} MB, best of {args.repeat} runs, each in a fresh process")
    print(f"{'run':<28} {'seconds':>8} {'x load+save':>12} {'peak MB':>8} {'x file':>7} {'above idle MB':>14} "
          f"{'x file':>7}")
    names = {"loadsave": "onnx.load + onnx.save", "no_validate": "prune --no-validate",
             "validate": "prune (validation on)", "idle": "idle interpreter (imports)"}
    for mode, r in rows.items():
        peak = r["peak_kb"] / 1024
        above = peak - idle_mb
        print(f"{names[mode]:<28} {r['seconds']:>8.2f} {r['seconds'] / base:>11.2f}x {peak:>8.0f} "
              f"{peak / size_mb:>6.2f}x {above:>14.0f} {above / size_mb:>6.2f}x")


if __name__ == "__main__":
    main()
