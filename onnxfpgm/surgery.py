"""Carry out a PrunePlan on a graph: slice every channel-indexed weight and rewrite every channel count.

Surgery decides nothing: every index comes from the Analysis and the PrunePlan. Weights are never changed in place:
each sliced weight is a new constant, so an initializer shared by several nodes stays intact for the others.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import onnx_graphsurgeon as gs

from .constants import FOLDABLE, constant_value
from .groups import Analysis, Segments, WeightUse
from .plan import PrunePlan


def positions(segments: Segments, block: int, plan: PrunePlan, repeat: int = 1) -> np.ndarray:
    """Kept positions along an axis laid out as `segments`, each channel spanning `block` positions, the whole run
    laid `repeat` times."""
    out: list[np.ndarray] = []
    offset = 0
    for group, channels in segments:
        kept = np.asarray(plan.kept(group), dtype=np.int64) + offset
        out.append((kept[:, None] * block + np.arange(block)[None, :]).reshape(-1))
        offset += channels
    once = np.concatenate(out) if out else np.zeros(0, dtype=np.int64)
    if repeat == 1:
        return once
    return (np.arange(repeat, dtype=np.int64)[:, None] * (offset * block) + once[None, :]).reshape(-1)


def kept_count(segments: Segments, plan: PrunePlan) -> int:
    return sum(len(plan.kept(g)) for g, _ in segments)


def changed(segments: Segments, plan: PrunePlan) -> bool:
    """Whether the plan removes any channel from a tensor laid out as `segments`."""
    return any(len(plan.kept(g)) != n for g, n in segments)


class _Names:
    def __init__(self, graph: gs.Graph) -> None:
        self.taken = set(graph.tensors().keys())

    def fresh(self, base: str) -> str:
        name, k = f"{base}_pruned", 1
        while name in self.taken:
            k += 1
            name = f"{base}_pruned{k}"
        self.taken.add(name)
        return name


def _uses_by_input(analysis: Analysis, plan: PrunePlan,
                   roles: tuple[str, ...]) -> dict[tuple[int, int], list[WeightUse]]:
    found: dict[tuple[int, int], list[WeightUse]] = defaultdict(list)
    for use in analysis.uses:
        if use.role in roles and changed(use.segments, plan):
            found[(use.node, use.input)].append(use)
    return found


def apply_plan(graph: gs.Graph, analysis: Analysis, plan: PrunePlan) -> gs.Graph:
    """Remove the planned channels from `graph` (a fresh import of the analysed model) and return it."""
    names = _Names(graph)
    nodes = graph.nodes
    for (n, i), uses in sorted(_uses_by_input(analysis, plan, ("producer", "consumer", "param")).items()):
        tensor = nodes[n].inputs[i]
        value = constant_value(tensor)
        assert value is not None
        for use in uses:
            value = _take(value, use, positions(use.segments, use.block, plan, use.repeat))
        nodes[n].inputs[i] = gs.Constant(names.fresh(tensor.name), np.ascontiguousarray(value))
    for rw in analysis.rewrites:
        if not any(changed(s, plan) for s in rw.segments):
            continue
        node = nodes[rw.node]
        if rw.kind == "group":
            node.attrs["group"] = kept_count(rw.segments[0], plan)
        elif rw.kind == "split":
            sizes = np.array([kept_count(s, plan) * rw.block for s in rw.segments], dtype=np.int64)
            node.attrs.pop("num_outputs", None)
            if graph.opset is not None and graph.opset < 13:
                node.attrs["split"] = [int(s) for s in sizes]
            elif len(node.inputs) > 1 and node.inputs[1].name:
                node.inputs[1] = gs.Constant(names.fresh(node.inputs[1].name), sizes)
            else:
                while len(node.inputs) > 1:
                    node.inputs.pop()
                node.inputs.append(gs.Constant(names.fresh(f"{node.name or 'split'}_sizes"), sizes))
        elif rw.kind == "shape":
            tensor = node.inputs[rw.input]
            value = np.array(constant_value(tensor), copy=True)
            value.reshape(-1)[rw.position] = kept_count(rw.segments[0], plan) * rw.block
            node.inputs[rw.input] = gs.Constant(names.fresh(tensor.name), value)
    _forget_stale_shapes(graph, analysis, plan)
    _drop_dead_constants(graph)
    return graph


def mask_plan(graph: gs.Graph, analysis: Analysis, plan: PrunePlan) -> gs.Graph:
    """The exactness reference: the original graph with the removed input slices of every consumer set to zero."""
    names = _Names(graph)
    nodes = graph.nodes
    for (n, i), uses in sorted(_uses_by_input(analysis, plan, ("consumer",)).items()):
        tensor = nodes[n].inputs[i]
        value = np.array(constant_value(tensor), copy=True)
        for use in uses:
            keep = np.zeros(value.shape[use.axis] * use.groups, dtype=bool)
            keep[positions(use.segments, use.block, plan, use.repeat)] = True
            if use.groups == 1:
                shape = [1] * value.ndim
                shape[use.axis] = -1
                value = value * keep.reshape(shape).astype(value.dtype)
            else:  # row block j of a grouped Conv's weight reads input block j
                rows = value.reshape(use.groups, value.shape[0] // use.groups, *value.shape[1:])
                shape = [use.groups] + [1] * value.ndim
                shape[1 + use.axis] = value.shape[use.axis]
                value = (rows * keep.reshape(shape).astype(value.dtype)).reshape(value.shape)
        nodes[n].inputs[i] = gs.Constant(names.fresh(tensor.name), value)
    _drop_dead_constants(graph)
    return graph


def _take(value: np.ndarray, use: WeightUse, kept: np.ndarray) -> np.ndarray:
    """Slice `value` along `use.axis`. For a grouped Conv's weight (groups > 1) the axis holds one block of input
    channels per block of rows: each row block keeps its own block's kept channels (the same number in each)."""
    if use.groups == 1:
        return np.take(value, kept, axis=use.axis)
    width = value.shape[use.axis]
    rows = np.split(value, use.groups, axis=0)
    blocks = [np.take(r, kept[(kept >= j * width) & (kept < (j + 1) * width)] - j * width, axis=use.axis)
              for j, r in enumerate(rows)]
    return np.concatenate(blocks, axis=0)


def _forget_stale_shapes(graph: gs.Graph, analysis: Analysis, plan: PrunePlan) -> None:
    outputs = {t.name for t in graph.outputs}
    for name, tensor in graph.tensors().items():
        segments = analysis.tensor_segments.get(name)
        if segments and name not in outputs and isinstance(tensor, gs.Variable) and changed(segments, plan):
            tensor.shape = None


def _drop_dead_constants(graph: gs.Graph) -> None:
    """Remove Constant nodes and constant expressions whose outputs lost their last user (no graph-wide cleanup)."""
    outputs = {t.name for t in graph.outputs}
    changed = True
    while changed:
        changed = False
        for node in list(graph.nodes):
            if (node.op == "Constant" or node.op in FOLDABLE) and not any(o.outputs for o in node.outputs) \
                    and not any(o.name in outputs for o in node.outputs) \
                    and constant_value(node.outputs[0]) is not None:
                node.inputs.clear()
                node.outputs.clear()
                graph.nodes.remove(node)
                changed = True
