from graphs import Builder, group_of, prune_checked


def test_batchnorm_left_unfolded_is_sliced():
    b = Builder()
    y = b.conv(b.node("Relu", [b.bn(c1 := b.conv("x", 3, 10, bias=False), 10)]), 10, 3)
    pruned, report = prune_checked(b.model([("x", [1, 3, 6, 6])], [y]))
    bn = next(n for n in pruned.graph.node if n.op_type == "BatchNormalization")
    inits = {t.name: t for t in pruned.graph.initializer}
    assert all(list(inits[i].dims) == [5] for i in bn.input[1:])
    assert group_of(report, c1).params


def test_instance_norm_params_are_sliced():
    b = Builder()
    x = b.conv("x", 3, 6)
    n = b.node("InstanceNormalization", [x, b.init(b.rand(6)), b.init(b.rand(6))])
    prune_checked(b.model([("x", [1, 3, 6, 6])], [b.conv(n, 6, 2)]))
