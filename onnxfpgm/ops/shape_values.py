"""Shape arithmetic: Shape(x) of a tensor that carries channels, and the Gather, Slice, Concat, Unsqueeze, Squeeze
and Cast ops that compute a Reshape target from it (`x.view(x.size(0), -1)`, `x.flatten(2)` in dynamic exports).

Each element of such a 1-D int tensor is tracked: a constant, or dim `i` of a tensor's layout. The values stay
right after pruning as long as no element that copies a channel count is used anywhere but at the channel
position of a Reshape of the same channels; anything else that reads a channel count fixes those channels.
"""

from __future__ import annotations

import numpy as np

from ..groups import Context, Dim, Literal, Rule, ShapeValue
from .structure import ints


def _elements(ctx: Context, index: int) -> ShapeValue | None:
    """The tracked elements of input `index`: a shape value, or a constant int vector (each element remembering
    where it was read, so that it can be rewritten there); None otherwise."""
    tensor = ctx.node.inputs[index]
    tracked = ctx.shape_values.get(tensor.name)
    if tracked is not None:
        return tracked
    value = ctx.const(tensor)
    if value is None or not np.issubdtype(value.dtype, np.integer) or value.ndim > 1:
        return None
    return tuple(Literal(int(v), ctx.node_index, index, i) for i, v in enumerate(np.atleast_1d(value)))


def shape(ctx: Context) -> None:
    x = ctx.layout(ctx.node.inputs[0])
    rank = ctx.rank(ctx.node.inputs[0])
    if x is None:
        return
    if rank is None:
        ctx.block(x, "reads the channel count at run time")
        return
    start = int(ctx.node.attrs.get("start", 0)) % (rank + 1) if "start" in ctx.node.attrs else 0
    end = int(ctx.node.attrs.get("end", rank))
    end = end % rank if end < 0 else min(end, rank)
    ctx.shape_values[ctx.node.outputs[0].name] = tuple(Dim(x, i) for i in range(start, end))


def gather(ctx: Context) -> bool:
    data, indices = _elements(ctx, 0), ints(ctx, "indices", 1)
    if data is None or indices is None or int(ctx.node.attrs.get("axis", 0)) != 0:
        return False
    ctx.shape_values[ctx.node.outputs[0].name] = tuple(data[i] for i in indices)
    return True


def slice_(ctx: Context) -> bool:
    data = _elements(ctx, 0)
    starts, ends = ints(ctx, "starts", 1), ints(ctx, "ends", 2)
    axes, steps = ints(ctx, "axes", 3), ints(ctx, "steps", 4)
    if data is None or not starts or not ends or axes not in ([], [0]) or steps not in ([], [1]):
        return False
    ctx.shape_values[ctx.node.outputs[0].name] = tuple(data[slice(starts[0], ends[0])])
    return True


def same(ctx: Context) -> bool:
    """Unsqueeze, Squeeze, Cast, Identity of a 1-D shape value keep its elements."""
    data = _elements(ctx, 0)
    if data is None:
        return False
    ctx.shape_values[ctx.node.outputs[0].name] = data
    return True


def concat(ctx: Context) -> bool:
    parts = [_elements(ctx, i) for i in range(len(ctx.node.inputs))]
    if any(p is None for p in parts):
        return False
    ctx.shape_values[ctx.node.outputs[0].name] = tuple(e for p in parts if p is not None for e in p)
    return True


SHAPE_RULES = {"Gather": gather, "Slice": slice_, "Unsqueeze": same, "Squeeze": same, "Cast": same,
               "Identity": same, "Concat": concat}
RULES: dict[str, Rule] = {"Shape": shape}
