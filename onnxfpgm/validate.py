"""Checks of a pruned model: ONNX checker with shape inference, onnxruntime runs and the exactness certificate.

The certificate: the pruned model must compute what the original computes with the removed input slices of every
consumer set to zero (the masked original), on the same seeded random inputs, within a tolerance relative to the
output's scale.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import numpy as np
import onnx
import onnxruntime as ort

from .errors import ValidationError
from .io import materialized


@dataclass(frozen=True)
class ValidationResult:
    passed: bool
    max_abs_diff: float
    allowed_diff: float
    output_scale: float
    change_vs_original: float
    latency_before_ms: float | None
    latency_after_ms: float | None
    probes: int = 0  # intermediate tensors compared besides the graph outputs
    probe_max_rel_diff: float = 0.0


def random_inputs(model: onnx.ModelProto, dims: dict[str, tuple[int, ...]], seed: int) -> dict[str, np.ndarray]:
    """Seeded inputs for every graph input: normal floats, small non-negative integers, false booleans."""
    rng = np.random.default_rng(seed)
    feeds: dict[str, np.ndarray] = {}
    for vi in model.graph.input:
        if vi.name not in dims:
            continue
        dtype = onnx.helper.tensor_dtype_to_np_dtype(vi.type.tensor_type.elem_type)
        shape = dims[vi.name]
        if np.issubdtype(dtype, np.floating):
            feeds[vi.name] = rng.standard_normal(shape).astype(dtype)
        elif np.issubdtype(dtype, np.integer):
            feeds[vi.name] = rng.integers(0, 2, size=shape).astype(dtype)
        else:
            feeds[vi.name] = np.zeros(shape, dtype=dtype)
    return feeds


def session(model: onnx.ModelProto | bytes, what: str, probes: list["Probe"] | None = None,
            once: bool = False) -> ort.InferenceSession:
    """An onnxruntime CPU session of the model, with the probes as extra outputs. A session that runs `once` keeps
    no memory arena: the activations of its single run go back to the system instead of staying reserved."""
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.enable_cpu_mem_arena = not once
    extra = [onnx.helper.make_tensor_value_info(p.name, p.elem_type, None) for p in probes or []]
    with materialized(model, extra) as source:
        try:
            return ort.InferenceSession(source, opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises several unrelated types
            raise ValidationError(f"onnxruntime cannot load the {what}: {_first_line(exc)}") from None


def run(sess: ort.InferenceSession, feeds: dict[str, np.ndarray], what: str) -> list[np.ndarray]:
    try:
        return [np.asarray(x) for x in sess.run(None, feeds)]
    except Exception as exc:
        raise ValidationError(f"onnxruntime cannot run the {what}: {_first_line(exc)}") from None


def latency_ms(sessions: list[ort.InferenceSession], feeds: dict[str, np.ndarray], runs: int) -> list[float]:
    """Median wall time of each session over `runs` runs after two warm-up runs each. The sessions take turns, so
    that a slower or busier moment of a shared machine falls on all of them alike."""
    for sess in sessions:
        for _ in range(2):
            sess.run(None, feeds)
    times: list[list[float]] = [[] for _ in sessions]
    for _ in range(max(runs, 1)):
        for sess, spent in zip(sessions, times):
            start = time.perf_counter()
            sess.run(None, feeds)
            spent.append((time.perf_counter() - start) * 1000.0)
    return [statistics.median(spent) for spent in times]


def check_model(model: onnx.ModelProto | bytes, what: str = "pruned model") -> None:
    """ONNX checker, full check (strict shape inference included)."""
    with materialized(model) as source:
        try:
            onnx.checker.check_model(source, full_check=True)
        except Exception as exc:
            raise ValidationError(f"the {what} fails the ONNX checker: {_first_line(exc)}") from None


@dataclass(frozen=True)
class Probe:
    """An intermediate tensor compared between the masked original and the pruned model: along `axis`, the
    pruned model holds the `kept` positions of the original (all of them when `kept` is None)."""

    name: str
    elem_type: int
    axis: int = 0
    kept: np.ndarray | None = None


def _kept_part(values: list[np.ndarray], probes: list[Probe]) -> list[np.ndarray]:
    """The masked original's probe values at the positions the pruned model keeps (the rest is released)."""
    return [v if p.kept is None else np.take(v, p.kept, axis=p.axis) for p, v in zip(probes, values)]


def _compare_probes(masked: list[np.ndarray], pruned: list[np.ndarray], probes: list[Probe]) -> float:
    """The largest difference over all probes (masked values already cut to the kept positions), each relative to
    max(1, its own largest magnitude)."""
    worst = 0.0
    for probe, a, b in zip(probes, masked, pruned):
        if a.shape != b.shape:
            raise ValidationError(f"tensor {probe.name!r} has shape {b.shape} in the pruned model, {a.shape} expected")
        if a.size == 0 or not np.issubdtype(a.dtype, np.floating):
            continue
        finite = np.isfinite(a)
        if not np.array_equal(finite, np.isfinite(b)):
            raise ValidationError(f"tensor {probe.name!r} of the pruned model has non-finite values where the masked "
                                  "original has none")
        diff = float(np.max(np.abs(a[finite].astype(np.float64) - b[finite]), initial=0.0))
        worst = max(worst, diff / max(1.0, float(np.max(np.abs(a[finite]), initial=0.0))))
    return worst


def certify(original: onnx.ModelProto, masked: onnx.ModelProto, pruned: onnx.ModelProto | bytes,
            dims: dict[str, tuple[int, ...]], tolerance: float, seed: int, latency_runs: int,
            original_bytes: bytes | None = None, probes: list[Probe] | None = None) -> ValidationResult:
    """Run all three models on the same inputs and compare the pruned model with the masked original, at the
    graph outputs and at every probe (so that a saturated output cannot hide a wrong value inside the network).
    Serialized forms, where the caller has them, save a copy of the weights."""
    check_model(pruned)
    feeds = random_inputs(original, dims, seed)
    probes = probes or []
    n_out = len(original.graph.output)
    y_masked = run(session(masked, "masked original", probes, once=True), feeds, "masked original")
    y_masked[n_out:] = _kept_part(y_masked[n_out:], probes)
    y_pruned = run(session(pruned, "pruned model", probes, once=True), feeds, "pruned model")
    probe_diff = _compare_probes(y_masked[n_out:], y_pruned[n_out:], probes)
    y_masked, y_pruned = y_masked[:n_out], y_pruned[:n_out]
    s_orig = session(original_bytes or original, "original model")
    y_orig = run(s_orig, feeds, "original model")
    worst, scale, change = 0.0, 0.0, 0.0
    for name, a, b, c in zip([o.name for o in original.graph.output], y_masked, y_pruned, y_orig):
        if a.shape != b.shape:
            raise ValidationError(f"output {name!r} changed shape: {a.shape} -> {b.shape}")
        if a.size == 0:
            continue
        if np.issubdtype(a.dtype, np.floating):
            if not np.all(np.isfinite(b) == np.isfinite(a)):
                raise ValidationError(f"output {name!r} of the pruned model has non-finite values where the masked "
                                      "original has none")
            finite = np.isfinite(a)
            worst = max(worst, float(np.max(np.abs(a[finite].astype(np.float64) - b[finite]), initial=0.0)))
            scale = max(scale, float(np.max(np.abs(a[finite]), initial=0.0)))
            change = max(change, float(np.max(np.abs(a[finite].astype(np.float64) - c[finite]), initial=0.0)))
        elif not np.array_equal(a, b):
            raise ValidationError(f"output {name!r} of the pruned model differs from the masked original")
    allowed = tolerance * max(scale, 1.0)
    if worst > allowed:
        raise ValidationError(f"exactness check failed: largest difference {worst:.3g} from the masked original "
                              f"exceeds {allowed:.3g}")
    if probe_diff > tolerance:
        raise ValidationError(f"exactness check failed inside the network: relative difference {probe_diff:.3g} "
                              f"from the masked original exceeds {tolerance:.3g}")
    before = after = None
    if latency_runs > 0:
        before, after = latency_ms([s_orig, session(pruned, "pruned model")], feeds, latency_runs)
    return ValidationResult(True, worst, allowed, scale, change, before, after, len(probes), probe_diff)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
