import pytest
from graphs import Builder, group_of, prune_checked, weight


@pytest.mark.parametrize("bias", [True, False])
def test_conv_chain_with_and_without_bias(bias):
    b = Builder()
    c1 = b.conv("x", 3, 8, bias=bias)
    c2 = b.conv(c1, 8, 4, bias=bias)
    pruned, report = prune_checked(b.model([("x", [1, 3, 8, 8])], [c2]))
    g = group_of(report, c1)
    assert g.channels_before == 8 and g.channels_after == 4
    assert weight(pruned, c1).shape == (4, 3, 3, 3)
    assert weight(pruned, c2).shape == (4, 4, 3, 3)
    if bias:
        assert weight(pruned, c1, 2).shape == (4,)


def test_depthwise_conv_couples_input_and_output_and_rewrites_group():
    b = Builder()
    c1 = b.conv("x", 3, 8)
    dw = b.conv(b.node("Relu", [c1]), 8, 8, group=8)
    y = b.conv(dw, 8, 5, k=1)
    pruned, report = prune_checked(b.model([("x", [1, 3, 8, 8])], [y]))
    dw_node = next(n for n in pruned.graph.node if n.name == dw)
    assert next(a.i for a in dw_node.attribute if a.name == "group") == 4
    assert weight(pruned, dw).shape == (4, 1, 3, 3)
    assert dw in group_of(report, c1).params


@pytest.mark.parametrize("groups,cin,cout", [(2, 8, 8), (4, 16, 8), (3, 12, 24)])
def test_grouped_conv_loses_the_same_number_of_channels_from_every_group(groups, cin, cout):
    b = Builder()
    c1 = b.conv("x", 3, cin)
    g2 = b.conv(b.node("Relu", [c1]), cin, cout, group=groups)
    y = b.conv(b.node("Relu", [g2]), cout, 2)
    pruned, report = prune_checked(b.model([("x", [1, 3, 8, 8])], [y]), ratio=0.5)
    for group, width in ((group_of(report, c1), cin), (group_of(report, g2), cout)):
        size = width // groups
        per_block = [sum(1 for k in group.kept if j * size <= k < (j + 1) * size) for j in range(groups)]
        assert len(set(per_block)) == 1 and per_block[0] == size // 2, per_block
    assert weight(pruned, g2).shape == (cout // 2, cin // groups // 2, 3, 3)
    node = next(n for n in pruned.graph.node if n.name == g2)
    assert next(a.i for a in node.attribute if a.name == "group") == groups


def test_grouped_conv_reading_a_concat_of_two_groups_is_fixed():
    b = Builder()
    a, c = b.conv("x", 3, 4), b.conv("x", 3, 4)
    g2 = b.conv(b.node("Concat", [a, c], axis=1), 8, 8, group=2)
    _, report = prune_checked(b.model([("x", [1, 3, 8, 8])], [b.conv(b.conv(g2, 8, 4), 4, 2)]))
    assert "several groups" in group_of(report, a).reason


def test_conv_transpose_is_producer_on_axis_1_and_consumer_on_axis_0():
    b = Builder()
    c1 = b.conv("x", 3, 8)
    up = b.node("ConvTranspose", [c1, b.init(b.rand(8, 6, 2, 2)), b.init(b.rand(6))], kernel_shape=[2, 2],
                strides=[2, 2])
    y = b.conv(b.node("Relu", [up]), 6, 2)
    pruned, report = prune_checked(b.model([("x", [1, 3, 4, 4])], [y]))
    assert weight(pruned, up).shape == (4, 3, 2, 2)
    layer = next(layer for layer in report.layers if layer.op == "ConvTranspose")
    assert (layer.out_before, layer.out_after, layer.in_before, layer.in_after) == (6, 3, 8, 4)


def test_weights_as_constant_nodes_and_shared_initializer():
    b = Builder()
    x = b.conv("x", 3, 8)
    shared = b.init(b.rand(8, 8, 3, 3))
    y1 = b.conv(b.node("Relu", [x]), 8, 8, weight=shared)
    y2 = b.conv(b.node("Sigmoid", [x]), 8, 8, weight=shared)
    z = b.node("Conv", [b.node("Add", [y1, y2]), b.const_node(b.rand(4, 8, 1, 1))], kernel_shape=[1, 1])
    pruned, report = prune_checked(b.model([("x", [1, 3, 6, 6])], [z]))
    names = [i.name for i in pruned.graph.initializer]
    assert len(names) == len(set(names))
    assert weight(pruned, y1).shape == weight(pruned, y2).shape == (4, 4, 3, 3)
    assert weight(pruned, z).shape == (4, 4, 1, 1)
    assert not any(n.op_type == "Constant" for n in pruned.graph.node)  # the replaced Constant node is gone


@pytest.mark.parametrize("reader", ["Conv", "BatchNormalization"])
def test_conv_or_batchnorm_reading_a_channels_last_tensor_fixes_the_group(reader):
    # A square feature map transposed to NHWC puts H on axis 1 with as many entries as the tracked channels: the
    # reader's axis 1 is not the group's channel axis, so the group is fixed rather than sliced on the wrong axis.
    b = Builder()
    c1 = b.conv("x", 3, 8)
    t = b.node("Transpose", [b.node("Relu", [c1])], perm=[0, 2, 3, 1])
    r = b.conv(t, 8, 4) if reader == "Conv" else b.bn(t, 8)
    keep = b.conv("x", 3, 6)  # something left to prune
    _, report = prune_checked(b.model([("x", [1, 3, 8, 8])], [b.node("Relu", [r]), b.conv(keep, 6, 2)]))
    assert "channels are not on axis 1" in group_of(report, c1).reason
    assert group_of(report, keep).channels_after == 3
