"""Gemm and MatMul with a constant weight: consumers of their input features, producers of their outputs."""

from __future__ import annotations

from ..groups import Context, Rule


def gemm(ctx: Context) -> None:
    node = ctx.node
    w = ctx.const_shape(node.inputs[1])
    a = ctx.layout(node.inputs[0])
    if w is None or len(w) != 2:
        ctx.block(a, "weight is not a constant matrix")
        return
    if int(node.attrs.get("transA", 0)):
        ctx.block(a, "transA=1 puts features on the batch axis")
        return
    trans_b = int(node.attrs.get("transB", 0))
    k_axis, n_axis = (1, 0) if trans_b else (0, 1)
    k, n = w[k_axis], w[n_axis]
    if a is not None and (a.axis != 1 or ctx.width(a) != k):
        ctx.block(a, "features do not line up with the weight")
        a = None
    if a is None:
        a = ctx.fixed_layout(k, 1, "features do not come from a tracked op")
    ctx.weight(1, k_axis, a, "consumer")
    out = ctx.new_layout(n, axis=1)
    ctx.weight(1, n_axis, out, "producer")
    if len(node.inputs) > 2 and node.inputs[2].name:
        c = ctx.const_shape(node.inputs[2])
        if c is None:
            ctx.block(out, "bias is not a constant")
        elif len(c) >= 1 and c[-1] == n and n > 1:
            ctx.weight(2, len(c) - 1, out, "param")
    ctx.set_layout(node.outputs[0], out)


def matmul(ctx: Context) -> None:
    node = ctx.node
    a = ctx.layout(node.inputs[0])
    w = ctx.const_shape(node.inputs[1])
    rank = ctx.rank(node.inputs[0])
    if w is None or len(w) != 2 or rank is None:
        ctx.block_inputs("not an activation times a constant matrix")
        return
    k, n = w
    if a is not None and (a.axis != rank - 1 or ctx.width(a) != k):
        ctx.block(a, "features are not on the last axis")
        a = None
    if a is None:
        a = ctx.fixed_layout(k, rank - 1, "features do not come from a tracked op")
    ctx.weight(1, 0, a, "consumer")
    out = ctx.new_layout(n, axis=rank - 1)
    ctx.weight(1, 1, out, "producer")
    ctx.set_layout(node.outputs[0], out)


RULES: dict[str, Rule] = {"Gemm": gemm, "MatMul": matmul}
