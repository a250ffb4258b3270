"""Conv and ConvTranspose: producers of their output channels, consumers of their input channels."""

from __future__ import annotations

from ..groups import Context, Layout, Rule


def _weight_shape(ctx: Context) -> tuple[int, ...] | None:
    """The constant weight's shape; a weight computed at run time blocks the node's inputs."""
    w = ctx.const_shape(ctx.node.inputs[1]) if len(ctx.node.inputs) > 1 else None
    if w is None or len(w) < 3:
        ctx.block_inputs("weight is not a constant")
        return None
    return w


def conv(ctx: Context) -> None:
    node = ctx.node
    w = _weight_shape(ctx)
    if w is None:
        return
    group = int(node.attrs.get("group", 1))
    c_out, c_in = w[0], w[1] * group
    x = ctx.layout_or_fixed(node.inputs[0], c_in)
    y = node.outputs[0]
    if group == 1:
        ctx.weight(1, 1, x, "consumer")
        out = ctx.new_layout(c_out)
        ctx.weight(1, 0, out, "producer")
    elif group == c_in == c_out and w[1] == 1:
        out = x  # depthwise: output channel i is input channel i
        ctx.weight(1, 0, out, "param")
        ctx.rewrite("group", (out,))
    else:  # 1 < group: the same number of channels leaves every block of input and of output channels
        ctx.partition(x, group)
        ctx.weight(1, 1, x, "consumer", groups=group)
        out = ctx.new_layout(c_out)
        ctx.partition(out, group)
        ctx.weight(1, 0, out, "producer")
    _bias(ctx, out)
    ctx.set_layout(y, out)


def conv_transpose(ctx: Context) -> None:
    node = ctx.node
    w = _weight_shape(ctx)
    if w is None:
        return
    group = int(node.attrs.get("group", 1))
    c_in, c_out = w[0], w[1] * group
    x = ctx.layout_or_fixed(node.inputs[0], c_in)
    if group == 1:  # output_shape, when given, holds spatial dims only
        ctx.weight(1, 0, x, "consumer")
        out = ctx.new_layout(c_out)
        ctx.weight(1, 1, out, "producer")
    else:
        ctx.block(x, "grouped transposed convolution")
        out = ctx.new_layout(c_out)
        ctx.block(out, "grouped transposed convolution")
    _bias(ctx, out)
    ctx.set_layout(node.outputs[0], out)


def _bias(ctx: Context, out: Layout) -> None:
    if len(ctx.node.inputs) > 2 and ctx.node.inputs[2].name:
        ctx.weight(2, 0, out, "param")


RULES: dict[str, Rule] = {"Conv": conv, "ConvTranspose": conv_transpose}
