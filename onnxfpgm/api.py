"""The public pipeline: load -> analyze -> score -> plan -> apply -> validate -> report."""

from __future__ import annotations

import gc
import os
import time
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import onnx
import onnxruntime
import onnx_graphsurgeon as gs

from . import __version__
from .config import PruneConfig
from .errors import NothingToPruneError, UsageError
from .groups import Analysis, ChannelGroup, analyze
from .io import check_input_model, read_model, serialize, to_graph, to_model
from .plan import PrunePlan, group_filters, make_plan
from .report import PruneReport, Totals, group_reports, layer_reports, param_count
from .scoring import Backend, channel_scores, resolve_backend
from .shapes import Dims, infer, input_dims
from .surgery import apply_plan, changed, mask_plan, positions
from .validate import Probe, certify, check_model

ModelInput = str | os.PathLike[str] | onnx.ModelProto
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Loaded:
    model: onnx.ModelProto
    data: bytes | None  # the serialized model, when at hand
    path: str | None
    size: int
    inputs: dict[str, tuple[int, ...]]
    dims: dict[str, Dims]
    types: dict[str, int]
    graph: gs.Graph
    analysis: Analysis


def _config(config: PruneConfig | None, options: dict[str, Any]) -> PruneConfig:
    known = {f.name for f in fields(PruneConfig)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise UsageError(f"unknown option(s): {', '.join(unknown)}")
    for key in ("layer_ratios", "input_shapes"):
        if isinstance(options.get(key), dict):
            options[key] = tuple(options[key].items())
    for key in ("exclude",):
        if isinstance(options.get(key), list):
            options[key] = tuple(options[key])
    return replace(config or PruneConfig(), **options)


def _load(model_or_path: ModelInput, config: PruneConfig) -> Loaded:
    if isinstance(model_or_path, onnx.ModelProto):
        model, path = model_or_path, None
        data = serialize(model)
        check_input_model(model, "model", data)
        size = len(data) if data is not None else model.ByteSize()
    else:
        path = str(model_or_path)
        model, data = read_model(path)
        size = Path(path).stat().st_size if data is not None else model.ByteSize()  # external data included
    if not config.validate:
        data = None  # only the validation runs need the original's bytes: do not hold them
    overrides = dict(config.input_shapes)
    inputs = input_dims(model, overrides)
    unknown = sorted(set(overrides) - set(inputs))
    if unknown:
        raise UsageError(f"--input-shape names no graph input: {', '.join(unknown)} "
                         f"(inputs: {', '.join(inputs) or 'none'})")
    for name, given in overrides.items():
        declared = next(vi for vi in model.graph.input if vi.name == name).type.tensor_type.shape.dim
        if len(declared) != len(given):
            raise UsageError(f"--input-shape {name} has {len(given)} dims, the model's input has {len(declared)}")
    dims, types = infer(model, inputs)
    graph = to_graph(model)
    return Loaded(model, data, path, size, inputs, dims, types, graph, analyze(graph, dims))


def inspect(model_or_path: ModelInput,
            input_shapes: dict[str, tuple[int, ...]] | None = None) -> tuple[ChannelGroup, ...]:
    """Every channel group of the model, with its producers, consumers, size, MAC count and why it is fixed."""
    config = PruneConfig(input_shapes=tuple((input_shapes or {}).items()))
    return _load(model_or_path, config).analysis.groups


def score(model_or_path: ModelInput, config: PruneConfig | None = None, **options: Any) -> dict[int, np.ndarray]:
    """Per-channel scores of every prunable group (group id -> float64 scores; lowest go first)."""
    cfg = _config(config, options)
    loaded = _load(model_or_path, cfg)
    backend = resolve_backend(cfg.device) if cfg.criterion == "fpgm" else "numpy"
    return _scores(loaded, cfg, backend, None)


def _scores(loaded: Loaded, cfg: PruneConfig, backend: Backend, progress: Progress | None,
            keep: dict[int, np.ndarray] | None = None) -> dict[int, np.ndarray]:
    """Scores of every prunable group, all on the original weights before anything is cut. The filter matrices
    go into `keep` when given (planning re-reads them near the cut)."""
    prunable = [g for g in loaded.analysis.groups if g.prunable]
    out: dict[int, np.ndarray] = {}
    for k, g in enumerate(prunable):
        filters = group_filters(loaded.graph, loaded.analysis, g)
        out[g.id] = channel_scores(filters, cfg.criterion, cfg.distance, backend)
        if keep is not None:
            keep[g.id] = filters
        if progress:
            progress("scoring groups", k + 1, len(prunable))
    return out


def _probes(loaded: Loaded, plan: PrunePlan) -> list[Probe]:
    """Every floating-point activation that carries channels or leaves a Conv, ConvTranspose, Gemm or MatMul,
    with the positions the pruned model keeps of it."""
    analysis = loaded.analysis
    boundary = {t.name for t in loaded.graph.inputs} | {t.name for t in loaded.graph.outputs}
    weighted = {use.node for use in analysis.uses}
    floats = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE, onnx.TensorProto.BFLOAT16}
    probes: list[Probe] = []
    for index, node in enumerate(loaded.graph.nodes):
        for tensor in node.outputs:
            name = tensor.name
            if not name or name in boundary or loaded.types.get(name) not in floats:
                continue
            segments = analysis.tensor_segments.get(name)
            if segments is None and index not in weighted:
                continue
            if segments is not None and changed(segments, plan):
                axis, block, repeat = analysis.tensor_axes[name]
                probes.append(Probe(name, loaded.types[name], axis, positions(segments, block, plan, repeat)))
            else:
                probes.append(Probe(name, loaded.types[name]))
    return probes


def _nothing_reason(plan: PrunePlan) -> str:
    statuses = {g.status for g in plan.groups}
    if statuses <= {"fixed"}:
        return "nothing to prune: every channel group is fixed (see `onnxfpgm inspect`)"
    if "kept" in statuses:
        return "nothing to prune: the ratio removes no channel from any prunable group"
    return "nothing to prune: every prunable group is excluded"


def _plan(model_or_path: ModelInput, cfg: PruneConfig, progress: Progress | None
          ) -> tuple[Loaded, PrunePlan, Backend]:
    loaded = _load(model_or_path, cfg)
    backend: Backend = resolve_backend(cfg.device) if cfg.criterion == "fpgm" else "numpy"
    filters: dict[int, np.ndarray] = {}
    scores = _scores(loaded, cfg, backend, progress, filters if cfg.criterion == "fpgm" else None)
    plan = make_plan(loaded.analysis, cfg, scores, lambda g: filters[g.id])
    filters.clear()
    if not plan.changes_anything:
        raise NothingToPruneError(_nothing_reason(plan))
    return loaded, plan, backend


def _report(loaded: Loaded, plan: PrunePlan, cfg: PruneConfig, backend: str, started: float) -> PruneReport:
    """The report of a dry run; `prune` completes it with the pruned model's figures."""
    groups = group_reports(loaded.analysis, plan)
    layers = layer_reports(loaded.graph, loaded.analysis, plan)
    macs_before = sum(loaded.analysis.node_macs)
    params = param_count(loaded.model)
    totals = Totals(
        params_before=params, params_after=params,
        macs_before=macs_before, macs_after=macs_before - sum(x.macs_before - x.macs_after for x in layers),
        channels_before=sum(g.channels_before for g in groups if g.producers),
        channels_after=sum(g.channels_after for g in groups if g.producers),
        groups_pruned=sum(g.status == "pruned" for g in groups),
        groups_fixed=sum(g.status == "fixed" for g in groups),
        groups_excluded=sum(g.status == "excluded" for g in groups),
        bytes_before=loaded.size, bytes_after=loaded.size,
    )
    options = {f.name: getattr(cfg, f.name) for f in fields(PruneConfig)}
    options["layer_ratios"] = dict(cfg.layer_ratios)
    options["input_shapes"] = {k: list(v) for k, v in cfg.input_shapes}
    options["exclude"] = list(cfg.exclude)
    versions = {"onnxfpgm": __version__, "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__,
                "numpy": np.__version__}
    return PruneReport(loaded.path, None, options, backend, versions, totals, None, groups, layers,
                       time.perf_counter() - started, dry_run=True)


def dry_run(model_or_path: ModelInput, config: PruneConfig | None = None, progress: Progress | None = None,
            **options: Any) -> PruneReport:
    """Analyze, score and plan; report what `prune` would remove without building a model."""
    started = time.perf_counter()
    cfg = _config(config, options)
    loaded, plan, backend = _plan(model_or_path, cfg, progress)
    return _report(loaded, plan, cfg, backend, started)


def prune(model_or_path: ModelInput, config: PruneConfig | None = None, progress: Progress | None = None,
          output_path: str | None = None, **options: Any) -> tuple[onnx.ModelProto, PruneReport]:
    """Prune a model (a path or a ModelProto) and return the pruned model and its report.

    Options are the fields of PruneConfig (`ratio=0.3, criterion="fpgm", layer_ratios={"conv1*": 0.5}, ...`).
    Raises an OnnxFpgmError subclass on bad input, nothing to prune, or a failed validation.
    """
    model, _, report = prune_serialized(model_or_path, config, progress, output_path, **options)
    return model, report


def prune_serialized(model_or_path: ModelInput, config: PruneConfig | None = None, progress: Progress | None = None,
                     output_path: str | None = None, **options: Any
                     ) -> tuple[onnx.ModelProto, bytes | None, PruneReport]:
    """`prune`, also returning the pruned model's bytes (None when it needs external data) for saving."""
    started = time.perf_counter()
    cfg = _config(config, options)
    loaded, plan, backend = _plan(model_or_path, cfg, progress)
    report = _report(loaded, plan, cfg, backend, started)
    if progress:
        progress("removing channels", 0, 1)
    pruned = to_model(apply_plan(to_graph(loaded.model), loaded.analysis, plan), loaded.model, consume=True)
    if not cfg.validate:
        del loaded  # the original's weights are no longer needed: free them before the copy that serializing makes
    gc.collect()  # graphs are reference cycles: free the edited one (and its sliced weights) now
    if progress:
        progress("removing channels", 1, 1)
    validation = None
    if cfg.validate:
        if progress:
            progress("validating", 0, 1)
        data = serialize(pruned)
        masked = to_model(mask_plan(to_graph(loaded.model), loaded.analysis, plan), loaded.model)
        validation = certify(loaded.model, masked, data or pruned, loaded.inputs, cfg.tolerance, cfg.seed,
                             cfg.latency_runs, loaded.data, _probes(loaded, plan))
        if progress:
            progress("validating", 1, 1)
    else:
        data = serialize(pruned)
        check_model(data or pruned)
    size = len(data) if data is not None else pruned.ByteSize()
    totals = replace(report.totals, params_after=param_count(pruned), bytes_after=size)
    report = replace(report, output_path=output_path, totals=totals, validation=validation, dry_run=False,
                     seconds=time.perf_counter() - started)
    return pruned, data, report
