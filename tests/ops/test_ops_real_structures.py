"""Structures of real exported models, each on a tiny graph checked by onnxruntime and the certificate."""

import numpy as np
import pytest
from graphs import Builder, group_of, prune_checked


def scalar(b, v):
    return b.init(np.array(v, np.float32))


@pytest.mark.parametrize("pool", ["GlobalAveragePool", "ReduceMean"])
@pytest.mark.parametrize("gate", ["Sigmoid", "HardSigmoid"])
def test_squeeze_excite_is_two_groups(pool, gate):
    b = Builder(opset=17)
    main = b.conv("x", 3, 16)
    s = b.node(pool, [main]) if pool == "GlobalAveragePool" else \
        b.node("ReduceMean", [main], axes=[2, 3], keepdims=1)
    reduce = b.conv(s, 16, 4, k=1)
    expand = b.conv(b.node("Relu", [reduce]), 4, 16, k=1)
    y = b.node("Mul", [main, b.node(gate, [expand])])
    _, report = prune_checked(b.model([("x", [1, 3, 5, 5])], [b.conv(y, 16, 2)]))
    se = group_of(report, main)
    assert set(se.producers) == {main, expand} and reduce in se.consumers
    assert group_of(report, reduce).status == "pruned" and group_of(report, reduce).channels_after == 2


def test_silu_and_hardswish_written_as_mul_of_a_function_of_itself():
    b = Builder()
    c = b.conv("x", 3, 8)
    silu = b.node("Mul", [c, b.node("Sigmoid", [c])])
    d = b.conv(silu, 8, 8)
    clip = b.node("Clip", [b.node("Add", [d, scalar(b, 3.0)]), scalar(b, 0.0), scalar(b, 6.0)])
    hswish = b.node("Div", [b.node("Mul", [d, clip]), scalar(b, 6.0)])
    _, report = prune_checked(b.model([("x", [1, 3, 5, 5])], [b.conv(hswish, 8, 2)]))
    assert group_of(report, c).channels_after == 4 and group_of(report, d).channels_after == 4


def test_erf_gelu_between_channels_last_matmuls():
    b = Builder()
    c = b.conv("x", 3, 8)
    t = b.node("Transpose", [c], perm=[0, 2, 3, 1])
    h = b.node("Add", [b.node("MatMul", [t, b.init(b.rand(8, 12))]), b.init(b.rand(12))])
    erf = b.node("Erf", [b.node("Div", [h, scalar(b, 1.4142135)])])
    gelu = b.node("Mul", [b.node("Mul", [h, b.node("Add", [erf, scalar(b, 1.0)])]), scalar(b, 0.5)])
    o = b.node("MatMul", [gelu, b.init(b.rand(12, 8))])
    y = b.conv(b.node("Transpose", [o], perm=[0, 3, 1, 2]), 8, 2)
    pruned, report = prune_checked(b.model([("x", [1, 3, 4, 4])], [y]))
    hidden = next(g for g in report.groups if g.channels_before == 12)
    assert hidden.status == "pruned" and hidden.channels_after == 6 and len(hidden.params) == 1


def test_conv_transpose_then_separate_bias_add_and_batchnorm():
    b = Builder()
    c = b.conv("x", 3, 8)
    up = b.node("ConvTranspose", [c, b.init(b.rand(8, 6, 2, 2))], kernel_shape=[2, 2], strides=[2, 2])
    y = b.node("Relu", [b.bn(b.node("Add", [up, b.init(b.rand(1, 6, 1, 1))]), 6)])
    _, report = prune_checked(b.model([("x", [1, 3, 4, 4])], [b.conv(y, 6, 2)]))
    g = group_of(report, up)
    assert g.channels_after == 3 and len(g.params) == 2


def test_reshape_merging_spatial_axes_rewrites_the_channel_count():
    b = Builder()
    c = b.conv("x", 3, 8)
    r = b.node("Reshape", [c, b.init(np.array([1, 8, 16], np.int64))])
    back = b.node("Reshape", [b.node("Relu", [r]), b.init(np.array([1, 8, 4, 4], np.int64))])
    pruned, report = prune_checked(b.model([("x", [1, 3, 4, 4])], [b.conv(back, 8, 2)]))
    shapes = sorted(list(np.frombuffer(t.raw_data, np.int64)) for t in pruned.graph.initializer
                    if t.data_type == 7)
    assert shapes == [[1, 4, 4, 4], [1, 4, 16]]


def test_reshape_splitting_the_channel_axis_blocks():
    b = Builder()
    c = b.conv("x", 3, 8)
    r = b.node("Reshape", [c, b.init(np.array([1, 2, 4, 16], np.int64))])
    back = b.node("Reshape", [r, b.init(np.array([1, 8, 4, 4], np.int64))])
    _, report = prune_checked(b.model([("x", [1, 3, 4, 4])], [b.conv(b.conv(back, 8, 4), 4, 2)]))
    assert "moves or splits the channel axis" in group_of(report, c).reason


def test_resize_and_add_across_scales():
    b = Builder()
    fine = b.conv("x", 3, 8)
    coarse = b.conv(b.node("MaxPool", [fine], kernel_shape=[2, 2], strides=[2, 2]), 8, 8)
    up = b.node("Resize", [coarse, "", b.init(np.array([1, 1, 2, 2], np.float32))], mode="nearest")
    y = b.node("Add", [fine, up])
    _, report = prune_checked(b.model([("x", [1, 3, 4, 4])], [b.conv(y, 8, 2)]))
    assert set(group_of(report, fine).producers) == {fine, coarse}
