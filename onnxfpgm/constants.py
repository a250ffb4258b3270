"""Constant inputs: initializers, Constant nodes, and small constant expressions over them.

Exporters often write a weight or a bias as a Constant node, behind Identity, or through a Reshape, Unsqueeze or
Cast of a constant (Paddle writes every Conv bias as Reshape(bias, [1, C, 1, 1])). Rules see through these, and
surgery replaces the whole expression by one sliced initializer.
"""

from __future__ import annotations

import numpy as np
import onnx_graphsurgeon as gs
from onnx import helper, numpy_helper
from onnx_graphsurgeon.ir.tensor import LazyValues

# Ops whose output is a constant when their inputs are; each is evaluated below with numpy.
FOLDABLE = frozenset({"Identity", "Reshape", "Unsqueeze", "Squeeze", "Cast"})
_CONSTANT_ATTRS = {"value_float": np.float32, "value_floats": np.float32, "value_int": np.int64,
                   "value_ints": np.int64}


def constant_value(tensor: gs.Tensor) -> np.ndarray | None:
    """The value of a constant input, else None.

    A weight still held lazily by onnx-graphsurgeon is converted without being cached on the graph, so analysing
    a model does not keep a second copy of all its weights alive.
    """
    if isinstance(tensor, gs.Constant):
        lazy = getattr(tensor, "_values", None)
        if isinstance(lazy, LazyValues):
            return numpy_helper.to_array(lazy.tensor)
        return np.asarray(tensor.values)
    if len(tensor.inputs) != 1:
        return None
    producer = tensor.inputs[0]
    if producer.op == "Constant":
        value = producer.attrs.get("value")
        if isinstance(value, gs.Constant):
            return np.asarray(value.values)
        for name, dtype in _CONSTANT_ATTRS.items():
            if name in producer.attrs:
                return np.asarray(producer.attrs[name], dtype=dtype)
        return None
    if producer.op in FOLDABLE and producer.outputs[0] is tensor and producer.inputs:
        return _fold(producer)
    return None


def constant_shape(tensor: gs.Tensor) -> tuple[int, ...] | None:
    """`constant_value(tensor).shape`, without converting a weight where its shape is known."""
    if isinstance(tensor, gs.Constant):
        return tuple(int(d) for d in tensor.shape)
    if len(tensor.inputs) == 1:
        producer = tensor.inputs[0]
        if producer.op == "Constant" and isinstance(producer.attrs.get("value"), gs.Constant):
            return tuple(int(d) for d in producer.attrs["value"].shape)
        if producer.op == "Identity" and producer.inputs:
            return constant_shape(producer.inputs[0])
    value = constant_value(tensor)
    return None if value is None else tuple(value.shape)


def _axes(node: gs.Node) -> list[int] | None:
    if "axes" in node.attrs:
        return [int(a) for a in node.attrs["axes"]]
    if len(node.inputs) > 1 and node.inputs[1].name:
        value = constant_value(node.inputs[1])
        return None if value is None else [int(a) for a in np.atleast_1d(value)]
    return []


def _fold(node: gs.Node) -> np.ndarray | None:
    data = constant_value(node.inputs[0])
    if data is None:
        return None
    if node.op == "Identity":
        return data
    if node.op == "Cast":
        return data.astype(helper.tensor_dtype_to_np_dtype(int(node.attrs["to"])))
    if node.op == "Reshape":
        shape = constant_value(node.inputs[1]) if len(node.inputs) > 1 else None
        if shape is None:
            return None
        dims = [int(d) for d in shape]
        if not int(node.attrs.get("allowzero", 0)):
            dims = [data.shape[i] if d == 0 else d for i, d in enumerate(dims)]
        return data.reshape(dims)
    axes = _axes(node)
    if axes is None:
        return None
    if node.op == "Unsqueeze":
        rank = data.ndim + len(axes)
        return data.reshape(_unsqueezed(data.shape, sorted(a % rank for a in axes)))
    if not axes:  # Squeeze of every unit axis
        return np.squeeze(data)
    return np.squeeze(data, axis=tuple(a % data.ndim for a in axes))


def _unsqueezed(shape: tuple[int, ...], axes: list[int]) -> list[int]:
    dims = list(shape)
    for a in axes:
        dims.insert(a, 1)
    return dims
