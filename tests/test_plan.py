import json

import numpy as np
import onnx
import pytest
from graphs import Builder, group_of, prune_checked

import onnxfpgm
from onnxfpgm.scoring import channel_scores


def chain(b: Builder):
    c1 = b.conv("x", 3, 8)
    c2 = b.conv(b.node("Relu", [c1]), 8, 10)
    c3 = b.conv(b.node("Relu", [c2]), 10, 6)
    return c1, c2, c3, b.model([("x", [1, 3, 6, 6])], [b.conv(c3, 6, 2)])


def test_every_group_is_scored_on_the_original_weights():
    b = Builder()
    c1, c2, c3, model = chain(b)
    scores = onnxfpgm.score(model)
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    node = next(n for n in model.graph.node if n.name == c2)
    w2 = inits[node.input[1]]  # all 8 input columns, before conv1's channels are cut
    _, report = prune_checked(model)
    gid = group_of(report, c2).id
    np.testing.assert_allclose(scores[gid], channel_scores(w2.reshape(10, -1)), rtol=1e-12)
    kept = group_of(report, c2).kept
    expected = np.sort(np.argsort(channel_scores(w2.reshape(10, -1)), kind="stable")[5:])
    assert list(kept) == list(expected)


def test_per_layer_ratios_and_exclusions():
    b = Builder()
    c1, c2, c3, model = chain(b)
    _, report = prune_checked(model, ratio=0.5, layer_ratios={c2: 0.2}, exclude=[c3])
    assert group_of(report, c1).channels_after == 4
    assert group_of(report, c2).channels_after == 8
    assert group_of(report, c3).status == "excluded" and group_of(report, c3).channels_after == 6


def test_layer_ratio_near_one_keeps_min_channels():
    b = Builder()
    c1, c2, c3, model = chain(b)
    _, report = prune_checked(model, ratio=0.0, layer_ratios={"*": 0.99})
    assert all(g.channels_after == 1 for g in report.groups if g.status == "pruned")
    _, report = prune_checked(model, ratio=0.99, min_channels=3)
    assert group_of(report, c2).channels_after == 3


@pytest.mark.parametrize("bad", [1.0, -0.1, 1.5, float("nan")])
def test_ratio_outside_range_is_a_usage_error(bad):
    b = Builder()
    model = chain(b)[3]
    with pytest.raises(onnxfpgm.UsageError):
        onnxfpgm.prune(model, ratio=bad)


def test_same_input_gives_byte_identical_models(tmp_path):
    b = Builder()
    model = chain(b)[3]
    first = onnxfpgm.prune(model, latency_runs=0)[0].SerializeToString()
    second = onnxfpgm.prune(onnx.load_from_string(model.SerializeToString()), latency_runs=0)[0].SerializeToString()
    assert first == second


def test_round_to_keeps_multiples():
    b = Builder()
    c1 = b.conv("x", 3, 20)
    model = b.model([("x", [1, 3, 6, 6])], [b.conv(b.node("Relu", [c1]), 20, 2)])
    _, report = prune_checked(model, ratio=0.3, round_to=8)
    assert group_of(report, c1).channels_after == 16


def test_config_file_round_trip(tmp_path):
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"ratio": 0.4, "layer_ratios": {"conv*": 0.1}, "exclude": ["head*"]}))
    cfg = onnxfpgm.PruneConfig().with_file(path)
    assert cfg.ratio == 0.4 and cfg.layer_ratios == (("conv*", 0.1),) and cfg.exclude == ("head*",)
    path.write_text(json.dumps({"ratoi": 0.4}))
    with pytest.raises(onnxfpgm.UsageError, match="unknown key"):
        onnxfpgm.PruneConfig().with_file(path)


def test_default_round_to_keeps_multiples_of_8_and_round_to_1_matches_fpgm_pruner_counts():
    b = Builder()
    c1 = b.conv("x", 3, 32)
    c2 = b.conv(b.node("Relu", [c1]), 32, 20)
    model = b.model([("x", [1, 3, 6, 6])], [b.conv(b.node("Relu", [c2]), 20, 2)])
    _, report = onnxfpgm.prune(model, ratio=0.3, latency_runs=0)
    assert group_of(report, c1).channels_after == 24  # 32 - round(9.6) = 22, rounded up to 24
    assert group_of(report, c2).channels_after == 16  # 20 - 6 = 14 -> 16
    _, report = onnxfpgm.prune(model, ratio=0.3, round_to=1, latency_runs=0)
    assert group_of(report, c1).channels_after == 22 and group_of(report, c2).channels_after == 14


def test_grouped_conv_ties_are_broken_on_the_whole_group_scores():
    # One-value filters 0, 2, 3 | -10, -10, 5 feeding a Conv with group 2: FPGM over the whole group gives
    # 30, 30, 32 | 50, 50, 40. Channels 0 and 1 tie, so the lowest index goes, although within block 0 alone
    # (5 against 3) channel 1 lies nearer the others.
    b = Builder()
    c1 = b.conv("x", 1, 6, k=1, bias=False, weight=b.init(np.array([0, 2, 3, -10, -10, 5], np.float32)
                                                         .reshape(6, 1, 1, 1)))
    g2 = b.conv(c1, 6, 4, k=1, group=2)
    _, report = prune_checked(b.model([("x", [1, 1, 4, 4])], [b.conv(g2, 4, 2, k=1)]), ratio=1 / 3)
    assert group_of(report, c1).kept == (1, 2, 3, 4)
