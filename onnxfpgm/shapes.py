"""Static shapes of every tensor, from ONNX shape inference on a weightless copy of the model."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto

Dims = tuple[int | None, ...]
# Initializers with more elements than this are replaced by typed graph inputs for inference (saves a weight copy).
_SMALL = 64


def input_dims(model: onnx.ModelProto, overrides: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
    """Concrete dims of every graph input: `overrides` where given, else the static dim, else 1."""
    initializers = {t.name for t in model.graph.initializer}
    out: dict[str, tuple[int, ...]] = {}
    for vi in model.graph.input:
        if vi.name in initializers:
            continue
        dims = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else 1
                for d in vi.type.tensor_type.shape.dim]
        out[vi.name] = tuple(overrides.get(vi.name, tuple(dims)))
    return out


def infer(model: onnx.ModelProto, inputs: dict[str, tuple[int, ...]]) -> tuple[dict[str, Dims], dict[str, int]]:
    """Shapes and element types (TensorProto enums) of every tensor that inference can reach, with graph inputs
    fixed to `inputs`."""
    skeleton = onnx.ModelProto()
    skeleton.ir_version = max(model.ir_version, 4)
    skeleton.opset_import.extend(model.opset_import)
    skeleton.functions.extend(model.functions)
    g = skeleton.graph
    g.node.extend(model.graph.node)
    g.output.extend(model.graph.output)
    for vi in model.graph.input:
        new = g.input.add()
        new.CopyFrom(vi)
        if vi.name in inputs:
            del new.type.tensor_type.shape.dim[:]
            for d in inputs[vi.name]:
                new.type.tensor_type.shape.dim.add().dim_value = d
    declared = {vi.name for vi in model.graph.input}
    for init in model.graph.initializer:
        n = 1
        for d in init.dims:
            n *= d
        if n <= _SMALL:
            g.initializer.append(init)
        elif init.name not in declared:
            g.input.append(onnx.helper.make_tensor_value_info(init.name, init.data_type, list(init.dims)))
    try:
        inferred = onnx.shape_inference.infer_shapes(skeleton, strict_mode=False, data_prop=True)
    except Exception:  # inference is best effort here; rules that need a shape block without one
        inferred = skeleton
    dims: dict[str, Dims] = {}
    types: dict[str, int] = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        t = vi.type.tensor_type
        if t.elem_type != TensorProto.UNDEFINED:
            types[vi.name] = t.elem_type
        if t.elem_type == TensorProto.UNDEFINED or not t.HasField("shape"):
            continue
        dims[vi.name] = tuple(d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim)
    for init in model.graph.initializer:
        dims[init.name] = tuple(init.dims)
    missing = [name for node in model.graph.node for name in node.output if name and name not in dims]
    if missing:
        measured_dims, measured_types = _measure(model, inputs, missing)
        dims.update(measured_dims)
        for name, elem in measured_types.items():
            types.setdefault(name, elem)
    return dims, types


def _measure(model: onnx.ModelProto, inputs: dict[str, tuple[int, ...]], names: list[str]
             ) -> tuple[dict[str, Dims], dict[str, int]]:
    """Shapes that static inference could not reach (data-dependent Reshapes of some exporters), read from one
    onnxruntime run on seeded inputs of the fixed input dims. Best effort: a model that does not run gives none."""
    import onnxruntime as ort

    from .io import materialized
    from .validate import random_inputs

    extra = []
    for name in names:
        vi = onnx.ValueInfoProto()
        vi.name = name
        extra.append(vi)
    try:
        with materialized(model, extra) as source:
            options = ort.SessionOptions()
            options.log_severity_level = 4
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            sess = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
        outputs = sess.run(names, random_inputs(model, inputs, 0))
    except Exception:  # onnxruntime raises several unrelated types; the rules block what stays unknown
        return {}, {}
    dims: dict[str, Dims] = {}
    types: dict[str, int] = {}
    for name, value in zip(names, outputs):
        if isinstance(value, np.ndarray):
            dims[name] = tuple(int(d) for d in value.shape)
            types[name] = onnx.helper.np_dtype_to_tensor_dtype(value.dtype)
    return dims, types
