"""Counts (params, MACs), the typed prune report, its JSON form and the human summary."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
import onnx_graphsurgeon as gs

from .constants import constant_shape
from .groups import Analysis
from .plan import PrunePlan
from .validate import ValidationResult

SCHEMA = "onnxfpgm.report/1"


def param_count(model: onnx.ModelProto) -> int:
    """Elements of every initializer and Constant node value."""
    total = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
    for node in model.graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.TENSOR:
                    total += int(np.prod(attr.t.dims))
    return total


@dataclass(frozen=True)
class GroupReport:
    id: int
    status: str
    reason: str | None
    channels_before: int
    channels_after: int
    ratio: float
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    params: tuple[str, ...]
    members: tuple[str, ...]
    kept: tuple[int, ...]
    mac_share: float


@dataclass(frozen=True)
class LayerReport:
    node: str
    op: str
    out_before: int
    out_after: int
    in_before: int
    in_after: int
    kept_out: tuple[int, ...]
    macs_before: int
    macs_after: int


@dataclass(frozen=True)
class Totals:
    params_before: int
    params_after: int
    macs_before: int
    macs_after: int
    channels_before: int
    channels_after: int
    groups_pruned: int
    groups_fixed: int
    groups_excluded: int
    bytes_before: int
    bytes_after: int


@dataclass(frozen=True)
class PruneReport:
    """Everything a run did and measured; `to_json` gives the documented JSON form."""

    input_path: str | None
    output_path: str | None
    options: dict[str, Any]
    backend: str
    versions: dict[str, str]
    totals: Totals
    validation: ValidationResult | None
    groups: tuple[GroupReport, ...]
    layers: tuple[LayerReport, ...]
    seconds: float
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data = {"schema": SCHEMA, **data}
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def group_reports(analysis: Analysis, plan: PrunePlan) -> tuple[GroupReport, ...]:
    total = max(sum(analysis.node_macs), 1)
    out = []
    for g, p in zip(analysis.groups, plan.groups):
        out.append(GroupReport(g.id, p.status, p.reason, g.channels, len(p.kept), p.ratio, g.producers, g.consumers,
                               g.params, g.members, p.kept, g.macs / total))
    return tuple(out)


_OUT_AXIS = {"Conv": 0, "ConvTranspose": 1, "MatMul": 1}


def layer_reports(graph: gs.Graph, analysis: Analysis, plan: PrunePlan) -> tuple[LayerReport, ...]:
    """Channels in and out of every Conv, ConvTranspose, Gemm and MatMul, with kept output indices."""
    from .surgery import positions

    layers = []
    for i, node in enumerate(graph.nodes):
        if node.op not in ("Conv", "ConvTranspose", "Gemm", "MatMul") or len(node.inputs) < 2:
            continue
        w = constant_shape(node.inputs[1])
        if w is None or len(w) < 2:
            continue
        group = int(node.attrs.get("group", 1))
        out_axis = _OUT_AXIS.get(node.op, 0 if int(node.attrs.get("transB", 0)) else 1)
        in_axis = 1 - out_axis if len(w) == 2 or node.op == "Conv" else 0
        kept_by_axis: dict[int, int] = {}
        kept_out: tuple[int, ...] | None = None
        for use in analysis.uses:
            if use.node == i and use.input == 1:
                kept = positions(use.segments, use.block, plan, use.repeat)
                kept_by_axis[use.axis] = len(kept) // use.groups
                if use.axis == out_axis:
                    kept_out = tuple(int(k) for k in kept)
        depthwise = node.op == "Conv" and group > 1 and group == w[0] and w[1] == 1
        out_mult = group if node.op == "ConvTranspose" else 1
        out_before = w[out_axis] * out_mult
        out_after = kept_by_axis.get(out_axis, w[out_axis]) * out_mult
        in_before = w[in_axis] * (group if node.op == "Conv" else 1)
        if depthwise:
            in_after = out_after
        else:
            in_after = kept_by_axis.get(in_axis, w[in_axis]) * (group if node.op == "Conv" else 1)
        # Pruning never changes spatial sizes: MACs scale with the output channels and with the input channels per
        # output channel (constant for a depthwise Conv, whose group count follows its channels).
        macs = analysis.node_macs[i]
        in_scale = 1.0 if depthwise or in_before == 0 else in_after / in_before
        macs_after = int(round(macs * (out_after / out_before if out_before else 1.0) * in_scale))
        layers.append(LayerReport(analysis.node_names[i], node.op, out_before, out_after, in_before, in_after,
                                  kept_out if kept_out is not None else tuple(range(out_before)), macs, macs_after))
    return tuple(layers)


def _fmt_count(n: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.2f}{unit}"
    return f"{n:.0f}"


def _pct(before: float, after: float) -> str:
    return f"{(after - before) / before * 100:+.1f}%" if before else "n/a"


def summary(report: PruneReport) -> str:
    """The short human summary printed by `onnxfpgm prune`."""
    t = report.totals
    lines = [
        f"groups   {t.groups_pruned} pruned, {t.groups_fixed} fixed, {t.groups_excluded} excluded "
        f"(of {len(report.groups)})",
        f"channels {t.channels_before} -> {t.channels_after} ({_pct(t.channels_before, t.channels_after)})",
        f"params   {_fmt_count(t.params_before)} -> {_fmt_count(t.params_after)} "
        f"({_pct(t.params_before, t.params_after)})",
        f"MACs     {_fmt_count(t.macs_before)} -> {_fmt_count(t.macs_after)} ({_pct(t.macs_before, t.macs_after)})",
        f"size     {t.bytes_before / 1e6:.2f} MB -> {t.bytes_after / 1e6:.2f} MB",
    ]
    v = report.validation
    if v is None:
        lines.append("validate skipped (--no-validate)" if not report.dry_run else "validate skipped (dry run)")
    else:
        lines.append(f"validate passed: checker ok, largest difference from the masked original "
                     f"{v.max_abs_diff:.3g} (allowed {v.allowed_diff:.3g}); {v.probes} inner tensors agree "
                     f"within {v.probe_max_rel_diff:.2g}")
        if v.latency_before_ms is not None and v.latency_after_ms is not None:
            change = _pct(v.latency_before_ms, v.latency_after_ms)
            lines.append(f"latency  {v.latency_before_ms:.2f} ms -> {v.latency_after_ms:.2f} ms "
                         f"({change}, onnxruntime CPU, median of interleaved runs)")
    lines.append(f"time     {report.seconds:.2f} s, scores on {report.backend}")
    return "\n".join(lines)
