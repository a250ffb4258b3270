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
