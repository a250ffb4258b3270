import numpy as np
import pytest
from graphs import Builder, group_of, prune_checked, weight


@pytest.mark.parametrize("trans_b", [0, 1])
def test_flatten_then_gemm_removes_column_blocks(trans_b):
    b = Builder()
    c1 = b.conv("x", 3, 6)
    flat = b.node("Flatten", [b.node("Relu", [c1])], axis=1)
    w = b.rand(5, 6 * 16) if trans_b else b.rand(6 * 16, 5)
    h = b.node("Gemm", [flat, b.init(w), b.init(b.rand(5))], transB=trans_b)
    y = b.node("Gemm", [b.node("Relu", [h]), b.init(b.rand(4, 5)), b.init(b.rand(4))], transB=1)
    pruned, report = prune_checked(b.model([("x", [1, 3, 4, 4])], [y]))
    # 6 conv channels -> 3 kept (48 columns); 5 hidden -> round(2.5) = 2 removed, half to even
    assert weight(pruned, h).shape == ((3, 48) if trans_b else (48, 3))
    assert weight(pruned, y).shape == (4, 3)
    assert group_of(report, h).channels_after == 3


def test_reshape_constant_shape_feeding_matmul_chain_is_rewritten():
    b = Builder()
    x = b.node("GlobalAveragePool", [b.node("Relu", [b.conv("x", 3, 8)])])
    flat = b.node("Reshape", [x, b.init(np.array([1, 8], np.int64))])
    h = b.node("MatMul", [flat, b.init(b.rand(8, 6))])
    h2 = b.node("Add", [h, b.init(b.rand(6))])
    y = b.node("MatMul", [b.node("Relu", [h2]), b.init(b.rand(6, 3))])
    pruned, report = prune_checked(b.model([("x", [1, 3, 4, 4])], [y]))
    reshape = next(n for n in pruned.graph.node if n.op_type == "Reshape")
    shape = next(t for t in pruned.graph.initializer if t.name == reshape.input[1])
    assert list(np.frombuffer(shape.raw_data, np.int64)) == [1, 4]
    assert weight(pruned, h).shape == (4, 3)
    assert group_of(report, h).channels_after == 3


def _channels_last_head(b, flat_op, bias_add=False):
    """Conv -> Transpose to NHWC -> flatten (Keras Flatten as tf2onnx writes it) -> optional bias -> MatMul."""
    c1 = b.conv("x", 3, 6)
    t = b.node("Transpose", [b.node("Relu", [c1])], perm=[0, 2, 3, 1])  # [1, 4, 4, 6]
    if flat_op == "Flatten":
        flat = b.node("Flatten", [t], axis=1)
    else:
        flat = b.node("Reshape", [t, b.init(np.array([1, 96], np.int64))])
    if bias_add:
        flat = b.node("Add", [flat, b.init(b.rand(96))])
    h = b.node("MatMul", [flat, b.init(b.rand(96, 5))])
    return c1, h


@pytest.mark.parametrize("flat_op", ["Flatten", "Reshape"])
@pytest.mark.parametrize("bias_add", [False, True])
def test_channels_last_flatten_removes_strided_rows(flat_op, bias_add):
    b = Builder()
    c1, h = _channels_last_head(b, flat_op, bias_add)
    model = b.model([("x", [1, 3, 4, 4])], [b.node("MatMul", [b.node("Relu", [h]), b.init(b.rand(5, 2))])])
    original = weight(model, h)
    pruned, report = prune_checked(model)
    kept = group_of(report, c1).kept
    assert len(kept) == 3
    # feature (h * 4 + w) * 6 + c of the NHWC flatten: every 6th row belongs to the same channel
    rows = [p * 6 + c for p in range(16) for c in kept]
    assert np.array_equal(weight(pruned, h), original[rows][:, list(group_of(report, h).kept)])
    if flat_op == "Reshape":
        reshape = next(n for n in pruned.graph.node if n.op_type == "Reshape")
        shape = next(t for t in pruned.graph.initializer if t.name == reshape.input[1])
        assert list(np.frombuffer(shape.raw_data, np.int64)) == [1, 48]


def test_reshape_of_channels_last_features_into_whole_runs_follows_them():
    # [1, 4, 4, 6] -> [1, 2, 48]: each row of 48 holds 8 runs of the 6 channels
    b = Builder()
    c1 = b.conv("x", 3, 6)
    t = b.node("Transpose", [c1], perm=[0, 2, 3, 1])
    r = b.node("Reshape", [t, b.init(np.array([1, 2, 48], np.int64))])
    h = b.node("MatMul", [r, b.init(b.rand(48, 5))])
    _, report = prune_checked(b.model([("x", [1, 3, 4, 4])], [b.node("MatMul", [h, b.init(b.rand(5, 2))])]))
    assert group_of(report, c1).channels_after == 3


@pytest.mark.parametrize("cut", ["Split", "Concat"])
def test_split_or_concat_of_channels_last_features_is_fixed(cut):
    b = Builder()
    c1 = b.conv("x", 3, 6)
    flat = b.node("Flatten", [b.node("Transpose", [c1], perm=[0, 2, 3, 1])], axis=1)
    if cut == "Split":
        halves = b.node("Split", [flat, b.init(np.array([48, 48], np.int64))], n_out=2, axis=1)
        feats = b.node("Add", list(halves))
        width = 48
    else:
        feats = b.node("Concat", [flat, flat], axis=1)
        width = 192
    y = b.node("MatMul", [feats, b.init(b.rand(width, 5))])
    keep = b.conv("x", 3, 4)  # something left to prune
    _, report = prune_checked(b.model([("x", [1, 3, 4, 4])], [y, b.conv(keep, 4, 2)]))
    assert group_of(report, c1).status == "fixed"


@pytest.mark.parametrize("axis", [0, 2, 4, -1])
def test_flatten_at_any_axis_feeds_a_consumer_only_where_the_features_line_up(axis):
    # axis 0 keeps every feature on output axis 1 (block 16), axis 4 (the rank) puts them all on axis 0, axis 2
    # leaves channels on axis 0 of [6, 16], and -1 (= 3) puts channels and rows on axis 0 of [24, 4]
    b = Builder()
    c1 = b.conv("x", 3, 6)
    flat = b.node("Flatten", [b.node("Relu", [c1])], axis=axis)
    width = {0: 96, 2: 16, 4: 1, -1: 4}[axis]
    y = b.node("MatMul", [flat, b.init(b.rand(width, 5))])
    keep = b.conv("x", 3, 4)  # something left to prune
    _, report = prune_checked(b.model([("x", [1, 3, 4, 4])], [y, b.conv(keep, 4, 2)]))
    assert group_of(report, c1).status == ("pruned" if axis == 0 else "fixed")


def test_adding_channels_first_and_channels_last_features_is_fixed():
    b = Builder()
    c1 = b.conv("x", 3, 6)
    nhwc = b.node("Flatten", [b.node("Transpose", [c1], perm=[0, 2, 3, 1])])
    y = b.node("MatMul", [b.node("Add", [nhwc, b.node("Flatten", [c1])]), b.init(b.rand(96, 5))])
    keep = b.conv("x", 3, 4)  # something left to prune
    _, report = prune_checked(b.model([("x", [1, 3, 4, 4])], [y, b.conv(keep, 4, 2)]))
    assert "lay their channels out differently" in group_of(report, c1).reason
