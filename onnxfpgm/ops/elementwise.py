"""Elementwise ops: unary ones pass channels through; n-ary ones couple their activations and slice per-channel
constants broadcast along the channel axis."""

from __future__ import annotations

from ..groups import Context, Layout, Rule

UNARY = (
    "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu", "Celu", "Softplus",
    "Softsign", "Identity", "Cast", "Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round", "Erf",
    "Mish", "Gelu", "ThresholdedRelu", "Sign", "Sin", "Cos", "Shrink", "IsNaN", "IsInf", "Not",
)


def unary(ctx: Context) -> None:
    x = ctx.layout(ctx.node.inputs[0])
    if x is not None:
        ctx.set_layout(ctx.node.outputs[0], x)


def dropout(ctx: Context) -> None:
    x = ctx.layout(ctx.node.inputs[0])
    if x is None:
        return
    if len(ctx.node.outputs) > 1 and ctx.node.outputs[1].outputs:
        ctx.block(x, "the dropout mask is used")
        return
    ctx.set_layout(ctx.node.outputs[0], x)


def nary(ctx: Context) -> None:
    """Add, Mul, Sub, Div, Max, Min, Sum, Mean, Pow, PRelu: numpy broadcasting from the right."""
    node = ctx.node
    activations: list[tuple[int, Layout]] = []
    others: list[int] = []
    ranks: list[int] = []
    for i, t in enumerate(node.inputs):
        lay, shape = ctx.layout(t), ctx.const_shape(t)
        rank = len(shape) if lay is None and shape is not None else ctx.rank(t)
        ranks.append(-1 if rank is None else rank)
        if lay is not None:
            activations.append((i, lay))
        else:
            others.append(i)
    if not activations:
        return
    out_rank = ctx.rank(node.outputs[0])
    if out_rank is None or min(ranks) < 0:
        for _, lay in activations:
            ctx.block(lay, "tensor ranks are unknown")
        return
    axes = {lay.axis + out_rank - ranks[i] for i, lay in activations}
    spreads = {(lay.block, lay.repeat) for _, lay in activations}
    if len(axes) != 1 or len(spreads) != 1:
        reason = "operands carry channels on different axes" if len(axes) != 1 else \
            "operands lay their channels out differently along the axis (channels first and last)"
        for _, lay in activations:
            ctx.block(lay, reason)
        return
    axis, (block, repeat) = axes.pop(), spreads.pop()
    widest = max(ctx.channels(lay) for _, lay in activations)
    main = next(lay for _, lay in activations if ctx.channels(lay) == widest)
    for _, lay in activations:
        if ctx.channels(lay) == widest:
            ctx.couple(main, lay)
        elif ctx.channels(lay) == 1 and block == repeat == 1:
            ctx.block(lay, "broadcast along the channel axis")
        else:
            ctx.block(lay, "operands have different channel counts")
            ctx.block(main, "operands have different channel counts")
    for i in others:
        pos = axis - (out_rank - ranks[i])
        shape = ctx.const_shape(node.inputs[i])
        dims = shape if shape is not None else ctx.shape(node.inputs[i])
        if pos < 0 or (dims is not None and dims[pos] == 1):
            continue
        if shape is not None and dims is not None and dims[pos] == ctx.width(main):
            ctx.weight(i, pos, main, "param")
        else:
            ctx.block(main, f"input {i} is not a constant broadcast along channels")
    ctx.set_layout(node.outputs[0], Layout(main.atoms, axis, block, repeat))


RULES: dict[str, Rule] = {op: unary for op in UNARY}
RULES["Dropout"] = dropout
RULES.update({op: nary for op in ("Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean", "Pow", "PRelu")})
