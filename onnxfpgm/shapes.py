"""Static shapes of every tensor, from ONNX shape inference on a weightless copy of the model."""

from __future__ import annotations

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


def infer_dims(model: onnx.ModelProto, inputs: dict[str, tuple[int, ...]]) -> dict[str, Dims]:
    """Shape of every tensor that inference can reach, with graph inputs fixed to `inputs`."""
    return infer(model, inputs)[0]


def infer(model: onnx.ModelProto, inputs: dict[str, tuple[int, ...]]) -> tuple[dict[str, Dims], dict[str, int]]:
    """Shapes and element types (TensorProto enums) of every tensor that inference can reach."""
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
    return dims, types
