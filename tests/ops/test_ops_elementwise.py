import numpy as np
import pytest
from graphs import Builder, group_of, prune_checked

from onnxfpgm.ops.elementwise import UNARY

ATTRS = {"Clip": {}, "LeakyRelu": {"alpha": 0.1}}
# Unary ops that need positive or bounded inputs to give finite outputs on random data.
SAFE = [op for op in UNARY if op not in ("Log", "Sqrt", "Reciprocal", "IsNaN", "IsInf", "Not", "Cast", "Exp")]


@pytest.mark.parametrize("op", SAFE)
def test_unary_ops_pass_channels_through(op):
    b = Builder(opset={"Mish": 18, "Gelu": 20}.get(op, 17))
    x = b.node(op, [b.conv("x", 3, 6)], **ATTRS.get(op, {}))
    prune_checked(b.model([("x", [1, 3, 5, 5])], [b.conv(x, 6, 2)]))


def test_cast_and_dropout_and_clip_with_inputs():
    b = Builder()
    x = b.node("Cast", [b.conv("x", 3, 6)], to=1)
    x = b.node("Dropout", [x])
    x = b.node("Clip", [x, b.init(np.array(0.0, np.float32)), b.init(np.array(6.0, np.float32))])
    prune_checked(b.model([("x", [1, 3, 5, 5])], [b.conv(x, 6, 2)]))


def test_prelu_slope_is_sliced():
    b = Builder()
    c1 = b.conv("x", 3, 6)
    x = b.node("PRelu", [c1, b.init(b.rand(6, 1, 1))])
    _, report = prune_checked(b.model([("x", [1, 3, 5, 5])], [b.conv(x, 6, 2)]))
    assert x in group_of(report, c1).params


def test_residual_add_couples_producers():
    b = Builder()
    a = b.conv("x", 3, 8)
    c = b.conv(b.node("Relu", [a]), 8, 8)
    s = b.node("Add", [a, c])
    _, report = prune_checked(b.model([("x", [1, 3, 5, 5])], [b.conv(s, 8, 2)]))
    g = group_of(report, a)
    assert set(g.producers) == {a, c} and g.channels_after == 4


@pytest.mark.parametrize("op", ["Mul", "Add", "Sub", "Div"])
@pytest.mark.parametrize("shape", [(6, 1, 1), (1, 6, 1, 1), (), (1,)])
def test_binary_with_per_channel_or_scalar_constant(op, shape):
    b = Builder()
    c = np.abs(b.rand(*shape)) + 0.5
    x = b.node(op, [b.conv("x", 3, 6), b.init(c)])
    prune_checked(b.model([("x", [1, 3, 5, 5])], [b.conv(x, 6, 2)]))


def test_broadcast_of_one_channel_tensor_is_fixed():
    b = Builder()
    x = b.conv("x", 3, 6)
    gate = b.conv(x, 6, 1)
    y = b.node("Mul", [x, b.node("Sigmoid", [gate])])
    _, report = prune_checked(b.model([("x", [1, 3, 5, 5])], [b.conv(y, 6, 2)]))
    assert group_of(report, gate).status == "fixed"  # the 1-channel gate
    assert group_of(report, x).status == "pruned"
