import numpy as np
import onnx
import pytest
from graphs import Builder

import onnxfpgm
from onnxfpgm.api import _plan
from onnxfpgm.config import PruneConfig
from onnxfpgm.io import to_graph, to_model
from onnxfpgm.surgery import apply_plan, mask_plan
from onnxfpgm.validate import certify


def model_and_plan():
    b = Builder()
    c1 = b.conv("x", 3, 8)
    model = b.model([("x", [1, 3, 6, 6])], [b.conv(b.node("Relu", [c1]), 8, 4)])
    loaded, plan, _ = _plan(model, PruneConfig(ratio=0.5, round_to=1), None)
    return model, loaded, plan


def test_certificate_matches_a_hand_masked_original():
    model, loaded, plan = model_and_plan()
    pruned = to_model(apply_plan(to_graph(model), loaded.analysis, plan), model)
    hand = onnx.load_from_string(model.SerializeToString())
    kept = plan.groups[1].kept
    w2 = next(t for t in hand.graph.initializer if list(t.dims) == [4, 8, 3, 3])
    arr = onnx.numpy_helper.to_array(w2).copy()
    arr[:, [c for c in range(8) if c not in kept]] = 0
    w2.CopyFrom(onnx.numpy_helper.from_array(arr, w2.name))
    result = certify(model, hand, pruned, loaded.inputs, 1e-5, 0, 0)
    assert result.passed and result.max_abs_diff < 1e-5 and result.change_vs_original > 1e-3


def test_certificate_rejects_a_wrong_cut():
    model, loaded, plan = model_and_plan()
    masked = to_model(mask_plan(to_graph(model), loaded.analysis, plan), model)
    wrong_groups = list(plan.groups)
    g = wrong_groups[1]
    other = tuple(c for c in range(8) if c not in g.kept)
    wrong_groups[1] = type(g)(g.group, g.status, other, g.ratio)
    wrong = to_model(apply_plan(to_graph(model), loaded.analysis, type(plan)(tuple(wrong_groups))), model)
    with pytest.raises(onnxfpgm.ValidationError, match="exactness check failed"):
        certify(model, masked, wrong, loaded.inputs, 1e-4, 0, 0)


def test_prune_reports_latency_and_differences():
    model = model_and_plan()[0]
    _, report = onnxfpgm.prune(model, latency_runs=3, round_to=1)
    v = report.validation
    assert v.passed and v.latency_before_ms > 0 and v.latency_after_ms > 0
    assert v.max_abs_diff <= v.allowed_diff


def test_probes_catch_a_wrong_cut_hidden_by_a_saturated_output():
    b = Builder()
    c1 = b.conv("x", 3, 8)
    c2 = b.conv(b.node("Relu", [c1]), 8, 4)
    y = b.node("Mul", [c2, b.init(np.zeros((1,), np.float32))])  # the output is always zero
    model = b.model([("x", [1, 3, 6, 6])], [y])
    loaded, plan, _ = _plan(model, PruneConfig(ratio=0.5, round_to=1), None)
    from onnxfpgm.api import _probes

    masked = to_model(mask_plan(to_graph(model), loaded.analysis, plan), model)
    g = plan.groups[1]
    wrong_groups = list(plan.groups)
    wrong_groups[1] = type(g)(g.group, g.status, tuple(c for c in range(8) if c not in g.kept), g.ratio)
    wrong_plan = type(plan)(tuple(wrong_groups))
    wrong = to_model(apply_plan(to_graph(model), loaded.analysis, wrong_plan), model)
    probes = _probes(loaded, plan)
    assert {p.name for p in probes} >= {c1, c2}
    certify(model, masked, wrong, loaded.inputs, 1e-4, 0, 0)  # the outputs alone cannot tell
    with pytest.raises(onnxfpgm.ValidationError, match="inside the network"):
        certify(model, masked, wrong, loaded.inputs, 1e-4, 0, 0, probes=probes)
