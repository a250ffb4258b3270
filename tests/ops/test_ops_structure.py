import numpy as np
import onnx
import pytest
from graphs import Builder, group_of, prune_checked, weight
from onnx import TensorProto, helper


@pytest.mark.parametrize("op,attrs", [
    ("MaxPool", {"kernel_shape": [2, 2]}), ("AveragePool", {"kernel_shape": [2, 2]}),
    ("GlobalAveragePool", {}), ("GlobalMaxPool", {}),
])
def test_pools_pass_channels_through(op, attrs):
    b = Builder()
    x = b.node(op, [b.conv("x", 3, 6)], **attrs)
    prune_checked(b.model([("x", [1, 3, 6, 6])], [b.conv(x, 6, 2, k=1)]))


@pytest.mark.parametrize("opset", [9, 17])
def test_pad_on_spatial_axes(opset):
    b = Builder(opset=opset)
    pads = [0, 0, 1, 1, 0, 0, 1, 1]
    c = b.conv("x", 3, 6)
    x = b.node("Pad", [c], pads=pads) if opset < 11 else b.node("Pad", [c, b.init(np.array(pads, np.int64))])
    prune_checked(b.model([("x", [1, 3, 6, 6])], [b.conv(x, 6, 2)]))


def test_pad_on_channel_axis_blocks():
    b = Builder()
    c = b.conv("x", 3, 6)
    x = b.node("Pad", [c, b.init(np.array([0, 1, 0, 0, 0, 1, 0, 0], np.int64))])
    _, report = prune_checked(b.model([("x", [1, 3, 6, 6])], [b.conv(b.conv(x, 8, 4), 4, 2)]))
    assert "pads the channel axis" in group_of(report, c).reason


def test_concat_along_channels_offsets_each_input_group():
    b = Builder()
    a = b.conv("x", 3, 4)
    c = b.conv(b.node("Relu", [a]), 4, 6)
    cat = b.node("Concat", [a, c], axis=1)
    y = b.conv(b.bn(cat, 10), 10, 2)
    pruned, report = prune_checked(b.model([("x", [1, 3, 5, 5])], [y]))
    assert group_of(report, a).channels_after == 2 and group_of(report, c).channels_after == 3
    kept_a, kept_c = group_of(report, a).kept, group_of(report, c).kept
    layer = next(layer for layer in report.layers if layer.node == y)
    assert layer.in_after == 5
    w_before = next(t for t in onnx.load_from_string(b.model([("x", [1, 3, 5, 5])], [y]).SerializeToString())
                    .graph.initializer if list(t.dims) == [2, 10, 3, 3])
    full = onnx.numpy_helper.to_array(w_before)
    expected = full[:, list(kept_a) + [4 + k for k in kept_c]]
    np.testing.assert_array_equal(weight(pruned, y), expected)


@pytest.mark.parametrize("opset,style", [(11, "attr"), (13, "input"), (18, "num_outputs"), (13, "equal")])
def test_split_along_channels_rewrites_sizes(opset, style):
    b = Builder(opset=opset)
    c = b.conv("x", 3, 8)
    if style == "attr":
        parts = b.node("Split", [c], n_out=2, axis=1, split=[4, 4])
    elif style == "input":
        parts = b.node("Split", [c, b.init(np.array([4, 4], np.int64))], n_out=2, axis=1)
    elif style == "num_outputs":
        parts = b.node("Split", [c], n_out=2, axis=1, num_outputs=2)
    else:
        parts = b.node("Split", [c], n_out=2, axis=1)
    y = b.node("Add", [b.conv(parts[0], 4, 4), b.conv(parts[1], 4, 4)])
    pruned, report = prune_checked(b.model([("x", [1, 3, 5, 5])], [b.conv(y, 4, 2)]))
    assert weight(pruned, c).shape[0] == 4  # two groups of 4 channels, 2 kept in each


def test_uneven_split_refines_the_producer_into_two_groups():
    b = Builder()
    c = b.conv("x", 3, 10)
    parts = b.node("Split", [c, b.init(np.array([4, 6], np.int64))], n_out=2, axis=1)
    y1, y2 = b.conv(parts[0], 4, 2), b.conv(parts[1], 6, 2)
    _, report = prune_checked(b.model([("x", [1, 3, 5, 5])], [b.node("Add", [y1, y2])]))
    groups = [g for g in report.groups if c in g.producers]
    assert sorted(g.channels_before for g in groups) == [4, 6]
    assert sorted(g.channels_after for g in groups) == [2, 3]


def test_slice_full_channel_range_passes_and_partial_blocks():
    b = Builder()
    c = b.conv("x", 3, 6)
    s = b.node("Slice", [c, b.init(np.array([0], np.int64)), b.init(np.array([2**62], np.int64)),
                         b.init(np.array([1], np.int64))])
    d = b.conv(b.conv("x", 3, 6), 6, 6)
    part = b.node("Slice", [d, b.init(np.array([0], np.int64)), b.init(np.array([3], np.int64)),
                            b.init(np.array([1], np.int64))])
    y = b.node("Add", [b.conv(s, 6, 3), part])
    _, report = prune_checked(b.model([("x", [1, 3, 5, 5])], [b.conv(y, 3, 2)]))
    assert group_of(report, c).status == "pruned"
    assert "part of the channel axis" in group_of(report, d).reason


def test_reduce_mean_over_spatial_axes_keeps_channels():
    b = Builder()
    c = b.conv("x", 3, 6)
    r = b.node("ReduceMean", [c], axes=[2, 3], keepdims=0)
    y = b.node("Gemm", [r, b.init(b.rand(6, 4))])
    _, report = prune_checked(b.model([("x", [1, 3, 5, 5])], [y]))
    assert group_of(report, c).channels_after == 3


def test_resize_with_unit_channel_scale():
    b = Builder()
    c = b.conv("x", 3, 6)
    r = b.node("Resize", [c, "", b.init(np.array([1, 1, 2, 2], np.float32))], mode="nearest")
    prune_checked(b.model([("x", [1, 3, 4, 4])], [b.conv(r, 6, 2)]))


def test_graph_output_and_unknown_op_fix_their_groups():
    b = Builder()
    c = b.conv("x", 3, 6)
    d = b.conv(c, 6, 6)
    e = b.node("CumSum", [d, b.init(np.array(2, np.int64))])
    out2 = b.conv(b.conv(e, 6, 4), 4, 2)
    _, report = prune_checked(b.model([("x", [1, 3, 5, 5])], [c, out2]))
    assert "reaches graph output" in group_of(report, c).reason
    assert "no channel rule" in group_of(report, d).reason
    assert group_of(report, out2).status == "fixed"


def test_tensor_used_in_subgraph_is_fixed():
    b = Builder()
    c = b.conv("x", 3, 4)
    branch = helper.make_graph([helper.make_node("Identity", [c], ["t"])], "then", [],
                               [helper.make_tensor_value_info("t", TensorProto.FLOAT, None)])
    other = helper.make_graph([helper.make_node("Identity", [c], ["e"])], "else", [],
                              [helper.make_tensor_value_info("e", TensorProto.FLOAT, None)])
    cond = b.init(np.array(True))
    b.nodes.append(helper.make_node("If", [cond], ["branch_out"], then_branch=branch, else_branch=other))
    y = b.conv(b.conv("x", 3, 4), 4, 2)
    model = b.model([("x", [1, 3, 5, 5])], [y, "branch_out"])
    _, report = prune_checked(model)
    assert "subgraph" in group_of(report, c).reason


@pytest.mark.parametrize("axis,passes", [(-1, True), (1, False)])
def test_layer_norm_passes_channels_only_before_its_axis(axis, passes):
    b = Builder()
    c = b.conv("x", 3, 6)
    t = b.node("Transpose", [c], perm=[0, 2, 3, 1])  # channels last, then LayerNorm over W, C or over H, W, C
    n = b.node("LayerNormalization", [b.node("Transpose", [c], perm=[0, 1, 3, 2]) if passes else t,
                                      b.init(np.ones(5 if passes else [5, 5, 6], np.float32))], axis=axis)
    y = b.conv(n if passes else b.node("Transpose", [n], perm=[0, 3, 1, 2]), 6, 2)
    _, report = prune_checked(b.model([("x", [1, 3, 5, 5])], [y, b.conv(b.conv("x", 3, 4), 4, 2)]))
    assert (group_of(report, c).status == "pruned") == passes


def test_dynamic_flatten_from_shape_of_the_batch_dim_is_followed():
    """x.view(x.size(0), -1) in a dynamic export: Shape, Slice (or Gather + Unsqueeze), Concat with -1, Reshape."""
    b = Builder()
    c = b.conv("x", 3, 6)
    shape = b.node("Shape", [c])
    batch = b.node("Unsqueeze", [b.node("Gather", [shape, b.init(np.array(0, np.int64))], axis=0),
                                 b.init(np.array([0], np.int64))])
    flat = b.node("Reshape", [c, b.node("Concat", [batch, b.init(np.array([-1], np.int64))], axis=0)])
    y = b.node("Gemm", [flat, b.init(b.rand(6 * 25, 4))])
    pruned, report = prune_checked(b.model([("x", [1, 3, 5, 5])], [y]))
    assert group_of(report, c).channels_after == 3


def test_flatten2_copying_the_live_channel_count_is_followed():
    """x.flatten(2) in a dynamic export: Reshape(x, Concat(Shape(x)[0:2], [-1])) keeps the live channel count."""
    b = Builder()
    c = b.conv("x", 3, 6)
    head = b.node("Slice", [b.node("Shape", [c]), b.init(np.array([0], np.int64)), b.init(np.array([2], np.int64))])
    flat = b.node("Reshape", [c, b.node("Concat", [head, b.init(np.array([-1], np.int64))], axis=0)])
    back = b.node("Reshape", [flat, b.init(np.array([1, 6, 5, 5], np.int64))])
    _, report = prune_checked(b.model([("x", [1, 3, 5, 5])], [b.conv(back, 6, 2)]))
    assert group_of(report, c).channels_after == 3


@pytest.mark.parametrize("style", ["paddle", "torch"])
def test_constant_channel_count_inside_a_computed_target_is_rewritten_where_it_is_read(style):
    """reshape(x, [x.shape[0], 6]): the batch dim is read at run time, the channel count is a constant joined to it
    by a Concat (Paddle casts an int32 constant; torch's `x.view(x.size(0), 6)` unsqueezes a Gather)."""
    b = Builder()
    conv = b.conv("x", 3, 6)
    c = b.node("GlobalAveragePool", [conv])
    shape = b.node("Shape", [c])
    if style == "paddle":
        batch = b.node("Slice", [shape, b.init(np.array([0], np.int64)), b.init(np.array([1], np.int64))])
        count = b.node("Cast", [b.const_node(np.array([6], np.int32))], to=7)
    else:
        batch = b.node("Unsqueeze", [b.node("Gather", [shape, b.init(np.array(0, np.int64))], axis=0),
                                     b.init(np.array([0], np.int64))])
        count = b.const_node(np.array([6], np.int64))
    target = b.node("Concat", [batch, count], axis=0)
    y = b.node("MatMul", [b.node("Reshape", [c, target]), b.init(b.rand(6, 4))])
    pruned, report = prune_checked(b.model([("x", [1, 3, 5, 5])], [y]))
    assert group_of(report, conv).channels_after == 3
    assert weight(pruned, y).shape == (3, 4)


def test_constant_channel_count_read_by_other_nodes_too_is_fixed():
    b = Builder()
    conv = b.conv("x", 3, 6)
    c = b.node("GlobalAveragePool", [conv])
    batch = b.node("Slice", [b.node("Shape", [c]), b.init(np.array([0], np.int64)), b.init(np.array([1], np.int64))])
    target = b.node("Concat", [batch, b.init(np.array([6], np.int64))], axis=0)
    y = b.node("MatMul", [b.node("Reshape", [c, target]), b.init(b.rand(6, 4))])
    other = b.node("ConstantOfShape", [target])  # the same [1, 6] also sizes another tensor
    keep = b.conv("x", 3, 4)  # something left to prune
    _, report = prune_checked(b.model([("x", [1, 3, 5, 5])], [y, other, b.conv(keep, 4, 2)]))
    assert "read by other nodes too" in group_of(report, conv).reason


def test_a_channel_count_read_at_run_time_elsewhere_blocks():
    b = Builder()
    c = b.conv("x", 3, 6)
    count = b.node("Gather", [b.node("Shape", [c]), b.init(np.array([1], np.int64))], axis=0)
    grown = b.node("Expand", [b.init(np.ones((1, 1, 1), np.float32)), b.node("Concat", [b.init(
        np.array([1], np.int64)), count, b.init(np.array([1], np.int64))], axis=0)])
    y = b.node("Add", [b.node("GlobalAveragePool", [c]), b.node("Unsqueeze", [grown, b.init(np.array([3], np.int64))])])
    _, report = prune_checked(b.model([("x", [1, 3, 5, 5])], [b.conv(y, 6, 2), b.conv(b.conv("x", 3, 4), 4, 2)]))
    assert "reads the channel count at run time" in group_of(report, c).reason


@pytest.mark.parametrize("opset", [13, 18])
def test_reduce_mean_axes_as_attribute_or_input(opset):
    b = Builder(opset=opset)
    c = b.conv("x", 3, 6)
    if opset >= 18:
        r = b.node("ReduceMean", [c, b.init(np.array([2, 3], np.int64))], keepdims=1)
    else:
        r = b.node("ReduceMean", [c], axes=[2, 3], keepdims=1)
    _, report = prune_checked(b.model([("x", [1, 3, 5, 5])], [b.conv(r, 6, 2, k=1)]))
    assert group_of(report, c).channels_after == 3


@pytest.mark.parametrize("axis,passes", [(1, False), (3, True)])
def test_softmax_over_channels_blocks_and_over_width_passes(axis, passes):
    b = Builder()
    c = b.conv("x", 3, 6)
    y = b.conv(b.node("Softmax", [c], axis=axis), 6, 2)
    _, report = prune_checked(b.model([("x", [1, 3, 5, 5])], [y, b.conv(b.conv("x", 3, 4), 4, 2)]))
    assert (group_of(report, c).status == "pruned") == passes
    if not passes:
        assert "normalizes over the channel axis" in group_of(report, c).reason


def test_gather_on_channels_is_a_blocker():
    b = Builder()
    c = b.conv("x", 3, 6)
    g = b.node("Gather", [c, b.init(np.array([0, 2, 4], np.int64))], axis=1)
    _, report = prune_checked(b.model([("x", [1, 3, 5, 5])], [b.conv(g, 3, 2), b.conv(b.conv("x", 3, 4), 4, 2)]))
    assert "gathers along an axis" in group_of(report, c).reason
