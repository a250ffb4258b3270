"""Real architectures exported from torch (random weights): prune at 0.3 with validation on."""

import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

import onnxfpgm
from onnxfpgm.io import to_graph, to_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))
import architectures as A  # noqa: E402

CASES = {
    "resnet18": (lambda: A.resnet18(10), (1, 3, 64, 64)),
    "resnet50": (lambda: A.resnet50(10), (1, 3, 64, 64)),
    "vgg": (lambda: A.VGG(num_classes=10, hidden=128, image=64), (1, 3, 64, 64)),
    "mobilenetv2": (lambda: A.MobileNetV2(10), (1, 3, 64, 64)),
    "densenet121": (lambda: A.densenet121(10), (1, 3, 64, 64)),
    "unet": (lambda: A.UNet(), (1, 3, 32, 32)),
}


@pytest.fixture(scope="module", params=[(name, keep_bn) for name in CASES for keep_bn in (False, True)],
                ids=lambda p: f"{p[0]}-{'bn' if p[1] else 'fused'}")
def exported(request, tmp_path_factory):
    name, keep_bn = request.param
    build, shape = CASES[name]
    path = tmp_path_factory.mktemp(name) / f"{name}.onnx"
    A.export(build(), str(path), shape, keep_bn=keep_bn)
    return name, keep_bn, path


def test_prune_at_0_3_passes_every_check(exported):
    name, keep_bn, path = exported
    original = onnx.load(str(path))
    if keep_bn:
        assert any(n.op_type == "BatchNormalization" for n in original.graph.node)
    pruned, report = onnxfpgm.prune(str(path), ratio=0.3, latency_runs=0)
    onnx.checker.check_model(pruned, full_check=True)
    v = report.validation
    assert v.passed and v.max_abs_diff <= v.allowed_diff
    t = report.totals
    assert t.macs_after < 0.7 * t.macs_before  # removing 30% of channels on both sides cuts MACs by ~50%
    assert t.params_after < t.params_before
    fixed = [g for g in report.groups if g.status == "fixed"]
    assert all("graph input" in g.reason or "graph output" in g.reason for g in fixed), [g.reason for g in fixed]


def test_unmodified_round_trip_is_lossless(exported):
    _, _, path = exported
    model = onnx.load(str(path))
    again = to_model(to_graph(model), model)
    onnx.checker.check_model(again, full_check=True)
    assert [n.op_type for n in again.graph.node] == [n.op_type for n in model.graph.node]
    from graphs import run

    x = np.random.default_rng(0).standard_normal([d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim])
    feeds = {model.graph.input[0].name: x.astype(np.float32)}
    for a, b in zip(run(model, feeds), run(again, feeds)):
        np.testing.assert_array_equal(a, b)
