"""Weights written as constant expressions (Paddle's Reshape(bias), Unsqueeze, Cast, Identity chains)."""

import numpy as np
from graphs import Builder, group_of, prune_checked, weight
from onnx import helper


def test_reshaped_bias_of_paddle_exports_is_sliced_and_the_expression_dropped():
    b = Builder(opset=11)
    c1 = b.conv("x", 3, 8, bias=False)
    bias = b.node("Reshape", [b.init(b.rand(8)), b.init(np.array([1, 8, 1, 1], np.int64))])
    y = b.conv(b.node("Relu", [b.node("Add", [c1, bias])]), 8, 2)
    pruned, report = prune_checked(b.model([("x", [1, 3, 5, 5])], [y]))
    assert group_of(report, c1).channels_after == 4
    assert not any(n.op_type == "Reshape" for n in pruned.graph.node)


def test_unsqueeze_cast_and_identity_chains_and_constant_attributes():
    b = Builder(opset=13)
    c1 = b.conv("x", 3, 6, bias=False)
    scale = b.node("Unsqueeze", [b.node("Cast", [b.init(b.rand(6, 1, 1).astype(np.float64))], to=1),
                                 b.init(np.array([0], np.int64))])
    shared = b.node("Identity", [b.node("Identity", [b.init(b.rand(2, 6, 3, 3))])])
    three = b.name("three")
    b.nodes.append(helper.make_node("Constant", [], [three], value_float=3.0))
    x = b.node("Add", [b.node("Mul", [c1, scale]), three])
    y = b.node("Conv", [x, shared], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    pruned, report = prune_checked(b.model([("x", [1, 3, 5, 5])], [y]))
    assert weight(pruned, y).shape == (2, 3, 3, 3)
    assert not any(n.op_type in ("Unsqueeze", "Cast", "Identity") for n in pruned.graph.node)
