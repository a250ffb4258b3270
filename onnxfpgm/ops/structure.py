"""Ops that move, join, cut or reshape tensors: channels pass through, are offset, or are blocked."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..groups import Context, Dim, Layout, Literal, Rule


def ints(ctx: Context, attr: str, input_index: int) -> list[int] | None:
    """An int list given as an attribute (older opsets) or as a constant input (newer ones); None if dynamic."""
    node = ctx.node
    if attr in node.attrs:
        return [int(v) for v in np.atleast_1d(node.attrs[attr])]
    if input_index < len(node.inputs) and node.inputs[input_index].name:
        value = ctx.const(node.inputs[input_index])
        return None if value is None else [int(v) for v in np.atleast_1d(value)]
    return []


def laid_input(ctx: Context) -> tuple[Layout, int] | None:
    """The layout and rank of the node's first input; None when it carries no channels, or (after blocking them)
    when its rank is unknown."""
    x = ctx.layout(ctx.node.inputs[0])
    if x is None:
        return None
    rank = ctx.rank(ctx.node.inputs[0])
    if rank is None:
        ctx.block(x, "rank is unknown")
        return None
    return x, rank


def spatial_only(ctx: Context) -> None:
    """Pools and other NCHW ops that act on each channel alone."""
    x = ctx.layout(ctx.node.inputs[0])
    if x is None:
        return
    if x.axis != 1 or not x.plain:
        ctx.block(x, "channels are not on axis 1")
        return
    if len(ctx.node.outputs) > 1 and ctx.node.outputs[1].outputs:
        ctx.block(x, "pooling indices are used")
        return
    ctx.set_layout(ctx.node.outputs[0], x)


def pad(ctx: Context) -> None:
    laid = laid_input(ctx)
    if laid is None:
        return
    x, rank = laid
    pads, axes = ints(ctx, "pads", 1), ints(ctx, "axes", 3)
    if pads is None or axes is None:
        ctx.block(x, "pads are not constant")
        return
    axes = [a % rank for a in axes] if axes else list(range(rank))
    n = len(axes)
    if len(pads) != 2 * n:
        ctx.block(x, "pads do not match the rank")
        return
    if x.axis in axes and (pads[axes.index(x.axis)] or pads[axes.index(x.axis) + n]):
        ctx.block(x, "pads the channel axis")
        return
    ctx.set_layout(ctx.node.outputs[0], x)


def resize(ctx: Context) -> None:
    node = ctx.node
    x = ctx.layout(node.inputs[0])
    if x is None:
        return
    scales_input = 1 if node.op == "Upsample" else 2
    scales = node.attrs.get("scales")
    if scales is None and scales_input < len(node.inputs) and node.inputs[scales_input].name:
        scales = ctx.const(node.inputs[scales_input])
    if scales is not None and np.size(scales) > 0:
        if np.size(scales) <= x.axis or float(np.atleast_1d(scales)[x.axis]) != 1.0:
            ctx.block(x, "resizes the channel axis")
            return
        ctx.set_layout(node.outputs[0], x)
        return
    sizes = ctx.const(node.inputs[3]) if len(node.inputs) > 3 and node.inputs[3].name else None
    if sizes is None or "axes" in node.attrs or np.size(sizes) <= x.axis:
        ctx.block(x, "output sizes are not constant")
        return
    if int(np.atleast_1d(sizes)[x.axis]) != ctx.width(x):
        ctx.block(x, "resizes the channel axis")
        return
    ctx.rewrite("shape", (x,), x.block * x.repeat, x.axis, 3)
    ctx.set_layout(node.outputs[0], x)


def reduce(ctx: Context) -> None:
    node = ctx.node
    laid = laid_input(ctx)
    if laid is None:
        return
    x, rank = laid
    axes = ints(ctx, "axes", 1)
    if axes is None:
        ctx.block(x, "reduction axes are not constant")
        return
    if not axes:
        if int(node.attrs.get("noop_with_empty_axes", 0)):
            ctx.set_layout(node.outputs[0], x)
        else:
            ctx.block(x, "reduces over all axes, channels included")
        return
    axes = sorted(a % rank for a in axes)
    if x.axis in axes:
        ctx.block(x, "reduces over the channel axis")
        return
    keep = int(node.attrs.get("keepdims", 1))
    axis = x.axis if keep else x.axis - sum(a < x.axis for a in axes)
    ctx.set_layout(node.outputs[0], replace(x, axis=axis))


def softmax(ctx: Context) -> None:
    laid = laid_input(ctx)
    if laid is None:
        return
    x, rank = laid
    if ctx.opset < 13:  # the input is coerced to 2D at `axis`: every axis from there on is normalized together
        axis = int(ctx.node.attrs.get("axis", 1)) % rank
        if x.axis >= axis:
            ctx.block(x, "normalizes over the channel axis")
            return
    elif int(ctx.node.attrs.get("axis", -1)) % rank == x.axis:
        ctx.block(x, "normalizes over the channel axis")
        return
    ctx.set_layout(ctx.node.outputs[0], x)


def transpose(ctx: Context) -> None:
    laid = laid_input(ctx)
    if laid is None:
        return
    x, rank = laid
    perm = [int(p) for p in ctx.node.attrs.get("perm", list(range(rank))[::-1])]
    ctx.set_layout(ctx.node.outputs[0], replace(x, axis=perm.index(x.axis)))


def squeeze(ctx: Context) -> None:
    node = ctx.node
    laid = laid_input(ctx)
    if laid is None:
        return
    x, rank = laid
    out_rank = ctx.rank(node.outputs[0])
    axes = ints(ctx, "axes", 1)
    if axes is None or out_rank is None or not axes:
        ctx.block(x, "axes are not constant")
        return
    if node.op == "Squeeze":
        axes = [a % rank for a in axes]
        if x.axis in axes:
            ctx.block(x, "squeezes the channel axis")
            return
        axis = x.axis - sum(a < x.axis for a in axes)
    else:
        axes = sorted(a % out_rank for a in axes)
        axis = x.axis
        for a in axes:
            if a <= axis:
                axis += 1
    ctx.set_layout(node.outputs[0], replace(x, axis=axis))


def concat(ctx: Context) -> None:
    node = ctx.node
    layouts = [ctx.layout(t) for t in node.inputs]
    if all(lay is None for lay in layouts):
        return
    rank = ctx.rank(node.outputs[0])
    if rank is None:
        for lay in layouts:
            ctx.block(lay, "rank is unknown")
        return
    axis = int(node.attrs.get("axis", 1)) % rank
    known = [lay for lay in layouts if lay is not None]
    if all(lay.axis == axis and lay.repeat == 1 for lay in known) and len({lay.block for lay in known}) == 1:
        block = known[0].block
        atoms: list[int] = []
        for t, lay in zip(node.inputs, layouts):
            if lay is None:
                dims = ctx.shape(t)
                size = dims[axis] if dims is not None else None
                if size is None or size % block:
                    for other in known:
                        ctx.block(other, "an input of unknown size joins the channels")
                    return
                lay = ctx.fixed_layout(size // block, axis, "an input not made by a tracked op")
            atoms.extend(lay.atoms)
        ctx.set_layout(node.outputs[0], Layout(tuple(atoms), axis, block))
        return
    if all(lay is not None and lay.axis != axis for lay in layouts) and len({lay.axis for lay in known}) == 1:
        first = known[0]
        for lay in known[1:]:
            if ctx.channels(lay) != ctx.channels(first) or (lay.block, lay.repeat) != (first.block, first.repeat):
                ctx.block_inputs("inputs have different channels")
                return
            ctx.couple(first, lay)
        ctx.set_layout(node.outputs[0], first)
        return
    ctx.block_inputs("channels are joined with other axes")


def split(ctx: Context) -> None:
    node = ctx.node
    laid = laid_input(ctx)
    if laid is None:
        return
    x, rank = laid
    axis = int(node.attrs.get("axis", 0)) % rank
    if axis != x.axis:
        for out in node.outputs:
            ctx.set_layout(out, x)
        return
    sizes = ints(ctx, "split", 1)
    total = ctx.width(x)
    n_out = len(node.outputs)
    if sizes is None:
        ctx.block(x, "split sizes are not constant")
        return
    if x.repeat != 1:
        ctx.block(x, "splits channels laid channels-last")
        return
    if not sizes:
        chunk = -(-total // n_out)
        sizes = [min(chunk, total - i * chunk) for i in range(n_out)]
    if len(sizes) != n_out or sum(sizes) != total or any(s % x.block for s in sizes):
        ctx.block(x, "split sizes do not cut between channels")
        return
    start = 0
    outs: list[Layout] = []
    for out, size in zip(node.outputs, sizes):
        part = Layout(ctx.atoms.slice(x.atoms, start, size // x.block), axis, x.block)
        ctx.set_layout(out, part)
        outs.append(part)
        start += size // x.block
    ctx.rewrite("split", tuple(outs), x.block)


def slice_(ctx: Context) -> None:
    node = ctx.node
    laid = laid_input(ctx)
    if laid is None:
        return
    x, rank = laid
    starts, ends = ints(ctx, "starts", 1), ints(ctx, "ends", 2)
    axes, steps = ints(ctx, "axes", 3), ints(ctx, "steps", 4)
    if starts is None or ends is None or axes is None or steps is None:
        ctx.block(x, "slice bounds are not constant")
        return
    axes = [a % rank for a in axes] if axes else list(range(len(starts)))
    if x.axis in axes:
        i = axes.index(x.axis)
        total = ctx.width(x)
        step = steps[i] if steps else 1
        start = starts[i] + total if starts[i] < 0 else starts[i]
        if step != 1 or start > 0 or ends[i] < total:
            ctx.block(x, "takes part of the channel axis")
            return
    ctx.set_layout(node.outputs[0], x)


def merged(x: Layout, dims: list[int], start: int, end: int) -> Layout:
    """The layout after axes start..end-1 (x's channel axis among them) merge into one axis at `start`: the axes
    after the channel axis widen each channel's block, the axes before it repeat the run of channels."""
    inner = int(np.prod(dims[x.axis + 1:end]))
    outer = int(np.prod(dims[start:x.axis]))
    return Layout(x.atoms, start, x.block * inner, x.repeat * outer)


def flatten(ctx: Context) -> None:
    x = ctx.layout(ctx.node.inputs[0])
    dims = ctx.shape(ctx.node.inputs[0])
    if x is None:
        return
    if dims is None or any(d is None for d in dims):
        ctx.block(x, "input shape is not static")
        return
    sizes = [int(d) for d in dims if d is not None]
    axis = int(ctx.node.attrs.get("axis", 1))
    axis += len(sizes) if axis < 0 else 0  # axis may equal the rank: everything merges into output axis 0
    out = merged(x, sizes, 0, axis) if x.axis < axis else replace(merged(x, sizes, axis, len(sizes)), axis=1)
    ctx.set_layout(ctx.node.outputs[0], out)


def reshape(ctx: Context) -> None:
    """Output axis k holds the channels when the positions after it fit inside one channel's positions of the
    flattened tail (`span`) and axis k with them covers whole runs of all channels (`run`): each position on axis k
    then falls in one channel, whatever the axes before it hold."""
    node = ctx.node
    x = ctx.layout(node.inputs[0])
    if x is None:
        return
    value = ctx.const(node.inputs[1])
    tracked = ctx.shape_values.get(node.inputs[1].name)
    in_dims, out_dims = ctx.shape(node.inputs[0]), ctx.shape(node.outputs[0])
    if (value is None and tracked is None) or in_dims is None or out_dims is None or None in in_dims \
            or None in out_dims:
        ctx.block(x, "shape is not constant and static")
        ctx.block_shape_value(node.inputs[1], "the channel count it reads is used")
        return
    target: list[Dim | Literal] = list(tracked) if tracked is not None else \
        [Literal(int(v), ctx.node_index, 1, i) for i, v in enumerate(np.atleast_1d(np.asarray(value)))]
    ind = [int(d) for d in in_dims if d is not None]
    outd = [int(d) for d in out_dims if d is not None]
    span = x.block * int(np.prod(ind[x.axis + 1:]))  # positions of one channel in the flattened tail
    run = ctx.channels(x) * span
    for k in range(len(outd)):
        after = int(np.prod(outd[k + 1:]))
        if after == 0 or span % after or (outd[k] * after) % run:
            continue
        out = Layout(x.atoms, k, span // after, outd[k] * after // run)
        if not _target_follows(ctx, x, target, k, out):
            break
        entry = target[k]
        if isinstance(entry, Literal) and entry.value > 0:
            ctx.rewrite("shape", (x,), out.block * out.repeat, entry.position, entry.input, entry.node)
        ctx.set_layout(node.outputs[0], out)
        return
    ctx.block(x, "reshape moves or splits the channel axis")
    ctx.block_shape_value(node.inputs[1], "the channel count it reads is used")


def _target_follows(ctx: Context, x: Layout, target: list[Dim | Literal], k: int, out: Layout) -> bool:
    """Whether the target shape stays right when x's channel count changes: entry k (the new channel axis) is -1,
    a constant that is rewritten where it was read (when it reaches this Reshape alone), 0 copying the same axis,
    or a live copy of this very channel count; no other entry copies a channel count."""
    for i, entry in enumerate(target):
        if i == k:
            continue
        if isinstance(entry, Dim) and entry.is_channel_count:
            ctx.block(entry.layout, "a reshape copies its channel count to another axis")
            return False
        if isinstance(entry, Literal) and entry.value == 0 and i == x.axis:
            ctx.block(x, "a reshape copies its channel count to another axis")
            return False
    entry = target[k]
    if isinstance(entry, Dim):
        roots = [ctx.atoms.find(a) for a in ctx.atoms.expand(x.atoms)]
        same_channels = entry.is_channel_count and out.plain and x.plain and \
            [ctx.atoms.find(a) for a in ctx.atoms.expand(entry.layout.atoms)] == roots
        if not same_channels and entry.is_channel_count:
            ctx.block(entry.layout, "a reshape copies its channel count to another tensor")
        return same_channels
    if entry.value > 0:
        if not ctx.sole_path(entry.node, ctx.node):
            ctx.block(x, "the constant holding its channel count is read by other nodes too")
            return False
        return True
    return entry.value == -1 or (k == x.axis and (out.block, out.repeat) == (x.block, x.repeat))


RULES: dict[str, Rule] = {
    "MaxPool": spatial_only, "AveragePool": spatial_only, "LpPool": spatial_only, "GlobalAveragePool": spatial_only,
    "GlobalMaxPool": spatial_only, "GlobalLpPool": spatial_only,
    "Pad": pad, "Resize": resize, "Upsample": resize,
    "ReduceMean": reduce, "ReduceMax": reduce, "ReduceMin": reduce, "ReduceSum": reduce, "ReduceL2": reduce,
    "ReduceL1": reduce, "ReduceProd": reduce, "ReduceLogSumExp": reduce, "ReduceSumSquare": reduce,
    "Softmax": softmax, "LogSoftmax": softmax, "Hardmax": softmax,
    "Transpose": transpose, "Squeeze": squeeze, "Unsqueeze": squeeze,
    "Concat": concat, "Split": split, "Slice": slice_, "Flatten": flatten, "Reshape": reshape,
}


def layer_norm(ctx: Context) -> None:
    """LayerNormalization normalizes over axes `axis`..last: channels pass only when they lie before `axis`."""
    laid = laid_input(ctx)
    if laid is None:
        return
    x, rank = laid
    if int(ctx.node.attrs.get("axis", -1)) % rank <= x.axis:
        ctx.block(x, "normalizes over the channel axis")
        return
    ctx.set_layout(ctx.node.outputs[0], x)


def blocker(reason: str) -> Rule:
    """A rule for ops that always stop channels, with the reason a user reads."""

    def rule(ctx: Context) -> None:
        ctx.block_inputs(reason)

    return rule


RULES["LayerNormalization"] = layer_norm
RULES.update({
    "Size": blocker("reads the channel count at run time"),
    "GroupNormalization": blocker("normalizes over groups of channels"),
    "LpNormalization": blocker("normalizes over an axis that may hold the channels"),
    "LRN": blocker("normalizes across neighbouring channels"),
    "Gather": blocker("gathers along an axis that may hold the channels"),
    "GatherElements": blocker("gathers along an axis that may hold the channels"),
    "ArgMax": blocker("reduces to indices"),
    "ArgMin": blocker("reduces to indices"),
    "TopK": blocker("selects values by rank"),
    "DepthToSpace": blocker("moves channels into space"),
    "SpaceToDepth": blocker("moves space into channels"),
    "Expand": blocker("broadcasts to a shape that holds the channel count"),
    "Tile": blocker("repeats along the channel axis"),
    "NonZero": blocker("indices depend on every channel"),
    "ScatterND": blocker("writes at indices"),
    "ScatterElements": blocker("writes at indices"),
    "Einsum": blocker("contracts axes by an equation"),
})
