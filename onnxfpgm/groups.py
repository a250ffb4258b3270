"""Graph -> channel groups: pure analysis, the graph is never changed.

Every activation tensor that carries channels gets a *layout*: the channel axis, how many positions each channel
spans on it (`block`, >1 after a Flatten), how many times the whole run of channels repeats along it (`repeat`, >1
after a channels-last Flatten: NHWC features are h, w, c with c fastest), and a sequence of *atoms*. An atom is a
run of channels; a union-find over atoms records that two runs are the same channels (a residual Add, a depthwise
Conv, a pass-through op). A Split that cuts inside an atom refines its whole class into two. After the walk, each
union-find class of atoms is one channel group: the unit that is scored, planned and cut.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import onnx_graphsurgeon as gs

from .constants import constant_shape, constant_value
from .errors import UnsupportedModelError
from .shapes import Dims

Segments = tuple[tuple[int, int], ...]  # (group id, channels) in tensor order


@dataclass(frozen=True)
class Layout:
    """Channels of one tensor: atoms in order along `axis`, each channel spanning `block` positions; the run of all
    channels is laid `repeat` times one after the other, so channel c of C holds positions
    r * C * block + c * block + j for r < repeat and j < block."""

    atoms: tuple[int, ...]
    axis: int
    block: int = 1
    repeat: int = 1

    @property
    def plain(self) -> bool:
        """One position per channel, the run laid once: what a Conv, a norm or a pool reads on its channel axis."""
        return self.block == 1 and self.repeat == 1


class AtomTable:
    """Union-find over runs of channels, with refinement when a run must be cut in two."""

    def __init__(self) -> None:
        self.length: list[int] = []
        self.parent: list[int] = []
        self.children: list[tuple[int, int] | None] = []
        self.members: dict[int, list[int]] = {}
        self.reasons: dict[int, list[str]] = {}

    def new(self, length: int, reasons: Iterable[str] = ()) -> int:
        atom = len(self.length)
        self.length.append(length)
        self.parent.append(atom)
        self.children.append(None)
        self.members[atom] = [atom]
        self.reasons[atom] = list(reasons)
        return atom

    def find(self, atom: int) -> int:
        root = atom
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[atom] != root:
            self.parent[atom], atom = root, self.parent[atom]
        return root

    def leaves(self, atom: int) -> list[int]:
        kids = self.children[atom]
        if kids is None:
            return [atom]
        return self.leaves(kids[0]) + self.leaves(kids[1])

    def fix(self, atom: int, reason: str) -> None:
        for leaf in self.leaves(atom):
            root = self.find(leaf)
            if reason not in self.reasons[root]:
                self.reasons[root].append(reason)

    def _union_leaves(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra].extend(self.members.pop(rb))
        for r in self.reasons.pop(rb):
            if r not in self.reasons[ra]:
                self.reasons[ra].append(r)

    def _split_class(self, leaf: int, at: int) -> None:
        """Cut every atom of `leaf`'s class after `at` channels; the halves form two new classes."""
        root = self.find(leaf)
        reasons = self.reasons[root]
        heads: list[int] = []
        tails: list[int] = []
        for m in self.members[root]:
            head, tail = self.new(at, reasons), self.new(self.length[m] - at, reasons)
            self.children[m] = (head, tail)
            heads.append(head)
            tails.append(tail)
        for h, t in zip(heads[1:], tails[1:]):
            self._union_leaves(heads[0], h)
            self._union_leaves(tails[0], t)

    def expand(self, atoms: Iterable[int]) -> list[int]:
        out: list[int] = []
        for a in atoms:
            out.extend(self.leaves(a))
        return out

    def union(self, left: Iterable[int], right: Iterable[int]) -> None:
        """Identify two equally long runs of channels, refining atoms where their boundaries differ."""
        la, lb = list(left), list(right)
        while True:
            xa, xb = self.expand(la), self.expand(lb)
            pos_a = np.cumsum([self.length[x] for x in xa]).tolist()
            pos_b = np.cumsum([self.length[x] for x in xb]).tolist()
            if pos_a == pos_b:
                for x, y in zip(xa, xb):
                    self._union_leaves(x, y)
                return
            cut = sorted(set(pos_a) ^ set(pos_b))[0]
            for xs, pos in ((xa, pos_a), (xb, pos_b)):
                if cut not in pos:
                    i = next(k for k, p in enumerate(pos) if p > cut)
                    start = pos[i] - self.length[xs[i]]
                    self._split_class(xs[i], cut - start)

    def slice(self, atoms: Iterable[int], start: int, length: int) -> tuple[int, ...]:
        """The atoms covering channels [start, start + length), refining atoms cut by either end."""
        for edge in (start, start + length):
            pos = 0
            for x in self.expand(atoms):
                if pos < edge < pos + self.length[x]:
                    self._split_class(x, edge - pos)
                    break
                pos += self.length[x]
        out: list[int] = []
        pos = 0
        for x in self.expand(atoms):
            if start <= pos and pos + self.length[x] <= start + length:
                out.append(x)
            pos += self.length[x]
        return tuple(out)


@dataclass(frozen=True)
class Dim:
    """An element of a shape value that copies dim `index` of a tensor laid out as `layout`."""

    layout: Layout
    index: int

    @property
    def is_channel_count(self) -> bool:
        return self.index == self.layout.axis


@dataclass(frozen=True)
class Literal:
    """An element of a shape value read from a constant: element `position` of input `input` of node `node`, so
    that the constant it came from can be rewritten there."""

    value: int
    node: int
    input: int
    position: int


ShapeValue = tuple["Dim | Literal", ...]  # a tracked 1-D int tensor: each element a copied dim or a constant


@dataclass(frozen=True)
class WeightUse:
    """A constant input of a node whose `axis` is indexed by channels (`segments`, `block` positions each)."""

    node: int
    input: int
    axis: int
    segments: Segments
    block: int
    role: str  # "producer" | "consumer" | "param"
    groups: int = 1  # a grouped Conv's weight: `axis` holds one block of input channels per group of rows
    repeat: int = 1


@dataclass(frozen=True)
class Rewrite:
    """A count of channels held in the graph: kind "group" (Conv attribute), "split" (Split sizes) or "shape"
    (entry `position` of the constant int input `input`, as `block` positions per kept channel)."""

    kind: str
    node: int
    segments: tuple[Segments, ...]
    block: int = 1
    position: int = 0
    input: int = 0


@dataclass(frozen=True)
class ChannelGroup:
    """One set of coupled channels: scored, planned and cut as a unit."""

    id: int
    channels: int
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    params: tuple[str, ...]
    members: tuple[str, ...]
    tensors: tuple[str, ...]
    fixed: str | None
    macs: int = 0
    blocks: int = 1  # grouped convolutions need the same number of channels kept in each of `blocks` blocks

    @property
    def prunable(self) -> bool:
        return self.fixed is None


@dataclass(frozen=True)
class Analysis:
    """What `analyze` learns: the groups, every channel-indexed weight, and every count to rewrite."""

    groups: tuple[ChannelGroup, ...]
    uses: tuple[WeightUse, ...]
    rewrites: tuple[Rewrite, ...]
    tensor_segments: dict[str, Segments]
    tensor_axes: dict[str, tuple[int, int, int]]  # channel axis, block and repeat of every tensor in tensor_segments
    node_names: tuple[str, ...]
    node_macs: tuple[int, ...]
    dims: dict[str, Dims] = field(repr=False)

    def producer_uses(self, group: int) -> list[tuple[WeightUse, int]]:
        """Producer uses of `group` with the channel offset where the group starts in each."""
        found: list[tuple[WeightUse, int]] = []
        for use in self.uses:
            if use.role != "producer":
                continue
            offset = 0
            for g, n in use.segments:
                if g == group:
                    found.append((use, offset))
                offset += n
        return found


def node_label(node: gs.Node, index: int) -> str:
    return node.name or f"{node.op}_{index}"


class Context:
    """What an op rule sees and may do while the graph is walked."""

    def __init__(self, graph: gs.Graph, dims: dict[str, Dims]) -> None:
        self.graph = graph
        self.dims = dims
        self.atoms = AtomTable()
        self.layouts: dict[str, Layout] = {}
        self.uses: list[tuple[int, int, int, Layout, str, int]] = []
        self.partitions: list[tuple[Layout, int, str]] = []
        self.shape_values: dict[str, ShapeValue] = {}
        self.rewrites: list[tuple[str, int, tuple[Layout, ...], int, int, int]] = []
        self.node_index = 0
        self.node: gs.Node = gs.Node("Identity")
        self.label = ""
        self.opset = graph.opset or 13
        self.tensor_nodes: dict[str, set[int]] = {}

    # -- tensors -------------------------------------------------------------------------------------------------
    def layout(self, tensor: gs.Tensor) -> Layout | None:
        return self.layouts.get(tensor.name) if tensor.name else None

    def channels(self, layout: Layout) -> int:
        return sum(self.atoms.length[a] for a in layout.atoms)

    def width(self, layout: Layout) -> int:
        """The length of the channel axis: every channel's positions in every repeat."""
        return self.channels(layout) * layout.block * layout.repeat

    def rank(self, tensor: gs.Tensor) -> int | None:
        d = self.dims.get(tensor.name)
        return None if d is None else len(d)

    def shape(self, tensor: gs.Tensor) -> Dims | None:
        return self.dims.get(tensor.name)

    def const(self, tensor: gs.Tensor) -> np.ndarray | None:
        """The value of a constant input: an initializer, or a Constant node's output."""
        return constant_value(tensor)

    def const_shape(self, tensor: gs.Tensor) -> tuple[int, ...] | None:
        """The shape of a constant input without reading its values; None when it is not constant."""
        return constant_shape(tensor)

    def set_layout(self, tensor: gs.Tensor, layout: Layout) -> None:
        if tensor.name:
            self.layouts[tensor.name] = layout

    def new_layout(self, channels: int, axis: int = 1) -> Layout:
        return Layout((self.atoms.new(channels),), axis)

    def fixed_layout(self, channels: int, axis: int, reason: str) -> Layout:
        return Layout((self.atoms.new(channels, [f"{self.label} ({self.node.op}): {reason}"]),), axis)

    def layout_or_fixed(self, tensor: gs.Tensor, channels: int, axis: int = 1) -> Layout:
        """The tensor's layout, or a fixed one when its channels come from outside the tracked ops. Tracked channels
        that do not lie one position each on `axis` (a Conv reading a channels-last tensor) are fixed as well, and
        so is the node's own view of that axis."""
        found = self.layout(tensor)
        if found is not None and found.axis == axis and found.plain and self.channels(found) == channels:
            return found
        if found is not None:
            self.block(found, f"channels are not on axis {axis}, one position each")
            return self.fixed_layout(channels, axis, f"axis {axis} does not hold the tracked channels")
        origin = tensor
        while origin.inputs and origin.inputs[0].op in ("Transpose", "Identity", "Cast") and origin.inputs[0].inputs:
            origin = origin.inputs[0].inputs[0]  # an NHWC input transposed to NCHW is still the graph input
        source = "a graph input" if origin in self.graph.inputs or not origin.inputs else \
            f"a node ({origin.inputs[0].op}) with no tracked channels"
        layout = Layout((self.atoms.new(channels, [f"{self.label}: channels come from {source}"]),), axis)
        self.set_layout(tensor, layout)
        return layout

    # -- relations -----------------------------------------------------------------------------------------------
    def couple(self, a: Layout, b: Layout) -> None:
        self.atoms.union(a.atoms, b.atoms)

    def block(self, layout: Layout | None, reason: str) -> None:
        if layout is not None:
            for a in layout.atoms:
                self.atoms.fix(a, f"{self.label} ({self.node.op}): {reason}")

    def block_inputs(self, reason: str) -> None:
        for t in self.node.inputs:
            self.block(self.layout(t), reason)
            self.block_shape_value(t, "the channel count it reads is used")

    def block_shape_value(self, tensor: gs.Tensor, reason: str) -> None:
        """Fix the channels whose count a shape value copies."""
        for element in self.shape_values.get(tensor.name, ()):
            if isinstance(element, Dim) and element.is_channel_count:
                self.block(element.layout, reason)

    def partition(self, layout: Layout, blocks: int) -> None:
        """The channels of `layout` must lose the same number of channels from each of `blocks` equal blocks."""
        self.partitions.append((layout, blocks, self.label))

    def weight(self, input_index: int, axis: int, layout: Layout, role: str, groups: int = 1) -> bool:
        """Record that constant input `input_index` is indexed by `layout` on `axis`; block if it is not constant."""
        if input_index >= len(self.node.inputs) or constant_shape(self.node.inputs[input_index]) is None:
            self.block(layout, f"input {input_index} is not a constant")
            return False
        self.uses.append((self.node_index, input_index, axis, layout, role, groups))
        return True

    def rewrite(self, kind: str, layouts: tuple[Layout, ...], block: int = 1, position: int = 0,
                input_index: int = 0, node: int | None = None) -> None:
        """Record a channel count held in node `node` (the current node by default) to rewrite after the cut."""
        self.rewrites.append((kind, self.node_index if node is None else node, layouts, block, position, input_index))

    def sole_path(self, start: int, end: gs.Node) -> bool:
        """Whether node `start` reaches `end` through single outputs that each have a single consumer, so that a
        value changed at `start` is seen by `end` alone."""
        node = self.graph.nodes[start]
        while node is not end:
            if len(node.outputs) != 1:
                return False
            out = node.outputs[0]
            if len(out.outputs) != 1 or out in self.graph.outputs:
                return False
            node = out.outputs[0]
        return True


Rule = Callable[[Context], None]


def _subgraph_inputs(node: gs.Node) -> set[str]:
    names: set[str] = set()
    for value in node.attrs.values():
        graphs = value if isinstance(value, list) else [value]
        for sub in graphs:
            if isinstance(sub, gs.Graph):
                for inner in sub.nodes:
                    names.update(t.name for t in inner.inputs)
                    names |= _subgraph_inputs(inner)
    return names


def analyze(graph: gs.Graph, dims: dict[str, Dims]) -> Analysis:
    """Walk the graph once in order and return its channel groups. The graph is not changed."""
    from .ops import RULES  # the table imports this module
    from .ops.shape_values import SHAPE_RULES

    if not any(n.op in ("Conv", "ConvTranspose") for n in graph.nodes):
        raise UnsupportedModelError("the model has no Conv or ConvTranspose node to prune")
    ctx = Context(graph, dims)
    labels = tuple(node_label(n, i) for i, n in enumerate(graph.nodes))
    for index, node in enumerate(graph.nodes):
        ctx.node_index, ctx.node, ctx.label = index, node, labels[index]
        domain = node.domain or ""
        rule = RULES.get(node.op) if domain in ("", "ai.onnx") else None
        tracked = [t for t in node.inputs if t.name in ctx.shape_values]
        if tracked and node.op != "Reshape":
            shape_rule = SHAPE_RULES.get(node.op)
            if shape_rule is not None and shape_rule(ctx):
                continue
            for t in tracked:
                ctx.block_shape_value(t, "reads the channel count at run time")
        if rule is None:
            ctx.block_inputs("no channel rule for this op")
        else:
            rule(ctx)
        for name in _subgraph_inputs(node):
            layout = ctx.layouts.get(name)
            if layout is not None:
                ctx.block(layout, "tensor is used inside a subgraph")
    for out in graph.outputs:
        layout = ctx.layout(out)
        if layout is not None:
            for a in layout.atoms:
                ctx.atoms.fix(a, f"reaches graph output {out.name!r}")
    return _resolve(ctx, labels)


def _resolve(ctx: Context, labels: tuple[str, ...]) -> Analysis:
    atoms = ctx.atoms
    group_of_root: dict[int, int] = {}

    def segments(layout: Layout) -> Segments:
        out = []
        for leaf in atoms.expand(layout.atoms):
            root = atoms.find(leaf)
            gid = group_of_root.setdefault(root, len(group_of_root))
            out.append((gid, atoms.length[leaf]))
        return tuple(out)

    uses = tuple(WeightUse(n, i, axis, segments(lay), lay.block, role, groups, lay.repeat)
                 for n, i, axis, lay, role, groups in ctx.uses)
    blocks: dict[int, int] = {}
    for layout, count, label in ctx.partitions:
        segs = segments(layout)
        if len(segs) != 1 or not layout.plain:
            for leaf in atoms.expand(layout.atoms):
                atoms.fix(leaf, f"{label} (Conv): a grouped convolution reads channels from several groups")
            continue
        gid = segs[0][0]
        blocks[gid] = math.lcm(blocks.get(gid, 1), count)

    rewrites = tuple(Rewrite(kind, n, tuple(segments(x) for x in lays), block, pos, inp)
                     for kind, n, lays, block, pos, inp in ctx.rewrites)
    tensor_segments = {name: segments(lay) for name, lay in ctx.layouts.items()}
    roots = {gid: root for root, gid in group_of_root.items()}
    for gid, count in blocks.items():
        if atoms.length[roots[gid]] % count:
            atoms.fix(roots[gid], "grouped convolution blocks do not divide the channels")
    node_macs = tuple(node_mac_count(n, ctx.dims) for n in ctx.graph.nodes)

    groups = []
    for gid in range(len(group_of_root)):
        by_role: dict[str, list[int]] = {"producer": [], "consumer": [], "param": []}
        for use in uses:
            if any(g == gid for g, _ in use.segments) and use.node not in by_role[use.role]:
                by_role[use.role].append(use.node)
        tensors = tuple(sorted(t for t, segs in tensor_segments.items() if any(g == gid for g, _ in segs)))
        reasons = atoms.reasons[roots[gid]]
        fixed = "; ".join(reasons) if reasons else None
        if fixed is None and atoms.length[roots[gid]] == 0:
            fixed = "the channel axis is empty"
        if fixed is None and not by_role["producer"]:
            fixed = "no producer: the channels are not made by a Conv, ConvTranspose, Gemm or MatMul weight"
        names = {role: tuple(labels[i] for i in found) for role, found in by_role.items()}
        members = tuple(dict.fromkeys(names["producer"] + names["param"] + names["consumer"]))
        macs = sum(node_macs[i] for i in by_role["producer"])
        channels = atoms.length[roots[gid]]
        groups.append(ChannelGroup(gid, channels, names["producer"], names["consumer"], names["param"],
                                   members, tensors, fixed, macs, blocks.get(gid, 1)))
    axes = {name: (lay.axis, lay.block, lay.repeat) for name, lay in ctx.layouts.items()}
    return Analysis(tuple(groups), uses, rewrites, tensor_segments, axes, labels, node_macs, ctx.dims)


def node_mac_count(node: gs.Node, dims: dict[str, Dims]) -> int:
    """Multiply-accumulates of a Conv, ConvTranspose, Gemm or MatMul from static shapes (0 when unknown)."""
    if node.op not in ("Conv", "ConvTranspose", "Gemm", "MatMul") or len(node.inputs) < 2:
        return 0
    w = dims.get(node.inputs[1].name) or constant_shape(node.inputs[1])
    x = dims.get(node.inputs[0].name)
    y = dims.get(node.outputs[0].name)
    if w is None or any(d is None for d in w):
        return 0
    weight = [int(d) for d in w if d is not None]
    if node.op == "Conv":
        if y is None or any(d is None for d in y):
            return 0
        return int(np.prod([d for d in y if d is not None])) * int(np.prod(weight[1:]))
    if node.op == "ConvTranspose":
        if x is None or any(d is None for d in x):
            return 0
        return int(np.prod([d for d in x if d is not None])) * int(np.prod(weight[1:]))
    if y is None or any(d is None for d in y):
        return 0
    trans_b = node.op == "Gemm" and int(node.attrs.get("transB", 0)) == 1
    k = weight[1] if trans_b else weight[0]
    return int(np.prod([d for d in y if d is not None])) * k
