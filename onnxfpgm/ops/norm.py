"""Per-channel normalizations: their parameters are sliced with the channels they normalize."""

from __future__ import annotations

from ..groups import Context, Rule


def batch_norm(ctx: Context) -> None:
    node = ctx.node
    scale = ctx.const_shape(node.inputs[1])
    if scale is None or len(scale) != 1:
        ctx.block_inputs("scale is not a constant vector")
        return
    x = ctx.layout_or_fixed(node.inputs[0], scale[0])
    if any(out.outputs for out in node.outputs[1:]) or int(node.attrs.get("training_mode", 0)):
        ctx.block(x, "training-mode statistics outputs are used")
        return
    for i in range(1, len(node.inputs)):
        ctx.weight(i, 0, x, "param")
    ctx.set_layout(node.outputs[0], x)


def instance_norm(ctx: Context) -> None:
    node = ctx.node
    scale = ctx.const_shape(node.inputs[1])
    if scale is None or len(scale) != 1:
        ctx.block_inputs("scale is not a constant vector")
        return
    x = ctx.layout_or_fixed(node.inputs[0], scale[0])
    ctx.weight(1, 0, x, "param")
    ctx.weight(2, 0, x, "param")
    ctx.set_layout(node.outputs[0], x)


RULES: dict[str, Rule] = {"BatchNormalization": batch_norm, "InstanceNormalization": instance_norm}
