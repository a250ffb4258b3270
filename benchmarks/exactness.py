"""Exactness and savings on full-size exports: ResNet-50, MobileNetV2 and DenseNet-121 (random weights, 224x224,
opset 17, BatchNorm folded by the exporter and left unfolded), pruned at ratio 0.3 with validation on.

Prints, per model, the largest difference from the masked original, the tolerance it was held to, the number of inner
tensors compared and their largest relative difference, how far pruning moved the outputs, and MACs, params and
onnxruntime latency before and after. Run: python benchmarks/exactness.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import onnxfpgm

ROOT = Path(__file__).resolve().parents[1]
MODELS = {"resnet50": "A.resnet50()", "mobilenetv2": "A.MobileNetV2()", "densenet121": "A.densenet121()"}


def export(expr: str, path: Path, keep_bn: bool) -> None:
    code = (f"import sys; sys.path.insert(0, sys.argv[1]); import architectures as A; "
            f"A.export({expr}, sys.argv[2], (1, 3, 224, 224), opset=17, keep_bn={keep_bn})")
    subprocess.run([sys.executable, "-c", code, str(ROOT / "models"), str(path)], check=True)


def main() -> None:
    print(f"{'model':<22} {'max diff':>9} {'allowed':>9} {'inner':>13} {'change':>9} {'MACs':>18} {'params':>18} "
          f"{'latency ms':>16}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, expr in MODELS.items():
            for keep_bn in (False, True):
                path = Path(tmp) / f"{name}_{keep_bn}.onnx"
                export(expr, path, keep_bn)
                _, report = onnxfpgm.prune(str(path), ratio=0.3)
                v, t = report.validation, report.totals
                assert v is not None
                label = name + (" (BN)" if keep_bn else "")
                print(f"{label:<22} {v.max_abs_diff:>9.2e} {v.allowed_diff:>9.2e} "
                      f"{v.probes:>4} {v.probe_max_rel_diff:>8.1e} {v.change_vs_original:>9.2e} "
                      f"{t.macs_before / 1e9:>7.2f}G->{t.macs_after / 1e9:>5.2f}G "
                      f"{t.params_before / 1e6:>7.2f}M->{t.params_after / 1e6:>5.2f}M "
                      f"{v.latency_before_ms:>7.1f}->{v.latency_after_ms:>6.1f}")


if __name__ == "__main__":
    main()
