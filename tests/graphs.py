"""Tiny ONNX graphs built with onnx.helper, and the checks every op-rule test runs on them."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

import onnxfpgm
from onnxfpgm.report import param_count


class Builder:
    """Append nodes and random initializers; `model()` closes the graph."""

    def __init__(self, opset: int = 17, seed: int = 0) -> None:
        self.opset = opset
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.count = 0

    def name(self, base: str) -> str:
        self.count += 1
        return f"{base}{self.count}"

    def init(self, value: np.ndarray, base: str = "w") -> str:
        name = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def const_node(self, value: np.ndarray) -> str:
        out = self.name("c")
        self.nodes.append(helper.make_node("Constant", [], [out], value=numpy_helper.from_array(np.asarray(value))))
        return out

    def rand(self, *shape: int) -> np.ndarray:
        return self.rng.standard_normal(shape).astype(np.float32)

    def node(self, op: str, inputs: list[str], n_out: int = 1, **attrs: Any) -> Any:
        outs = [self.name(op.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=outs[0], **attrs))  # node named as its output
        return outs[0] if n_out == 1 else outs

    def conv(self, x: str, cin: int, cout: int, k: int = 3, group: int = 1, bias: bool = True,
             weight: str | None = None) -> str:
        w = weight or self.init(self.rand(cout, cin // group, k, k) * 0.5)
        inputs = [x, w] + ([self.init(self.rand(cout))] if bias else [])
        return self.node("Conv", inputs, kernel_shape=[k, k], pads=[k // 2] * 4, group=group)

    def bn(self, x: str, c: int) -> str:
        return self.node("BatchNormalization", [x, self.init(self.rng.uniform(0.5, 1.5, c).astype(np.float32)),
                                                 self.init(self.rand(c)), self.init(self.rand(c)),
                                                 self.init(self.rng.uniform(0.5, 2, c).astype(np.float32))])

    def model(self, inputs: list[tuple[str, list[Any]]], outputs: list[str]) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes, "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
            [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs], self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)])
        model.ir_version = 8
        model = onnx.shape_inference.infer_shapes(model)
        del model.graph.value_info[:]
        onnx.checker.check_model(model, full_check=True)
        return model


def run(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return [np.asarray(y) for y in sess.run(None, feeds)]


def prune_checked(model: onnx.ModelProto, shrinks: bool = True, **options: Any
                  ) -> tuple[onnx.ModelProto, onnxfpgm.PruneReport]:
    """Prune with validation on, then check on our own: checker, onnxruntime, same output shapes, fewer params."""
    options.setdefault("ratio", 0.5)
    options.setdefault("round_to", 1)  # tiny graphs: count channels exactly
    pruned, report = onnxfpgm.prune(model, latency_runs=0, **options)
    assert report.validation is not None and report.validation.passed
    assert report.validation.max_abs_diff <= report.validation.allowed_diff
    onnx.checker.check_model(pruned, full_check=True)
    rng = np.random.default_rng(1)
    feeds = {}
    for vi in model.graph.input:
        dims = [d.dim_value or 1 for d in vi.type.tensor_type.shape.dim]
        feeds[vi.name] = rng.standard_normal(dims).astype(np.float32)
    before, after = run(model, feeds), run(pruned, feeds)
    assert [a.shape for a in before] == [b.shape for b in after]
    if shrinks:
        assert param_count(pruned) < param_count(model)
        assert report.totals.groups_pruned >= 1
    return pruned, report


def group_of(report: onnxfpgm.PruneReport, producer: str) -> Any:
    return next(g for g in report.groups if producer in g.producers)


def weight(model: onnx.ModelProto, node_name: str, index: int = 1) -> np.ndarray:
    node = next(n for n in model.graph.node if n.name == node_name)
    inits = {t.name: t for t in model.graph.initializer}
    return numpy_helper.to_array(inits[node.input[index]])
