"""Per-channel normalizations: their parameters are sliced with the channels they normalize."""

from __future__ import annotations

from ..groups import Context, Rule


def per_channel_norm(ctx: Context) -> None:
    """BatchNormalization (inference form) and InstanceNormalization: every input after X holds one value per
    channel."""
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


RULES: dict[str, Rule] = {"BatchNormalization": per_channel_norm, "InstanceNormalization": per_channel_norm}
