"""Property-based fuzzing of the pruner: random valid CNN graphs built from the supported structures.

For every generated model onnxfpgm either writes a model that passes the ONNX checker and the exactness certificate
with the original's output shapes, or declines with an OnnxFpgmError; it never raises anything else.
ONNXFPGM_FUZZ_EXAMPLES sets the number of examples (200 by default; the documented long run uses 5000).
"""

import os

import numpy as np
import onnx
from graphs import Builder, run
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import onnxfpgm

EXAMPLES = int(os.environ.get("ONNXFPGM_FUZZ_EXAMPLES", "200"))
STRUCTURES = ("conv", "residual", "concat", "split", "depthwise", "grouped", "se", "bn_act", "pool", "transpose_conv")


@st.composite
def cnn(draw):
    b = Builder(opset=draw(st.sampled_from([13, 17])), seed=draw(st.integers(0, 2**16)))
    c = draw(st.integers(2, 16))
    x = "x"
    x = b.conv(x, 3, c, k=draw(st.sampled_from([1, 3])), bias=draw(st.booleans()))
    for kind in draw(st.lists(st.sampled_from(STRUCTURES), min_size=1, max_size=6)):
        if kind == "conv":
            out = draw(st.integers(1, 24))
            x, c = b.conv(x, c, out, k=draw(st.sampled_from([1, 3])), bias=draw(st.booleans())), out
        elif kind == "bn_act":
            acts = ["Relu", "Sigmoid", "LeakyRelu"] + (["HardSwish"] if b.opset >= 14 else [])
            x = b.node(draw(st.sampled_from(acts)), [b.bn(x, c)])
        elif kind == "residual":
            y = b.conv(b.node("Relu", [b.conv(x, c, c)]), c, c)
            x = b.node("Add", [x, y])
        elif kind == "concat":
            a, d = draw(st.integers(1, 12)), draw(st.integers(1, 12))
            x, c = b.node("Concat", [b.conv(x, c, a), b.conv(x, c, d)], axis=1), a + d
        elif kind == "split" and c >= 2:
            first = draw(st.integers(1, c - 1))
            sizes = b.init(np.array([first, c - first], np.int64))
            parts = b.node("Split", [x, sizes], n_out=2, axis=1) if b.opset >= 13 else \
                b.node("Split", [x], n_out=2, axis=1, split=[first, c - first])
            merged = draw(st.sampled_from(["concat", "add"]))
            if merged == "concat":
                x = b.node("Concat", [b.conv(parts[0], first, first), parts[1]], axis=1)
            else:
                out = draw(st.integers(1, 12))
                x, c = b.node("Add", [b.conv(parts[0], first, out), b.conv(parts[1], c - first, out)]), out
        elif kind == "depthwise":
            x = b.conv(x, c, c, group=c)
        elif kind == "grouped":
            g = draw(st.sampled_from([d for d in (2, 3, 4) if c % d == 0] or [1]))
            out = g * draw(st.integers(1, 4))
            x, c = b.conv(x, c, out, group=g), out
        elif kind == "se":
            squeeze = draw(st.integers(1, 8))
            gate = b.conv(b.node("Relu", [b.conv(b.node("GlobalAveragePool", [x]), c, squeeze, k=1)]), squeeze, c, k=1)
            x = b.node("Mul", [x, b.node(draw(st.sampled_from(["Sigmoid", "HardSigmoid"])), [gate])])
        elif kind == "pool":
            x = b.node("MaxPool", [x], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
        elif kind == "transpose_conv":
            out = draw(st.integers(1, 8))
            w = b.init(b.rand(c, out, 2, 2))
            x = b.node("AveragePool", [b.node("ConvTranspose", [x, w], kernel_shape=[2, 2], strides=[2, 2])],
                       kernel_shape=[2, 2], strides=[2, 2])
            c = out
    head = draw(st.sampled_from(["none", "pooled", "flatten", "nhwc_flatten", "nhwc_reshape"]))
    if head != "none":  # every structure keeps the 6x6 map, so a flattened head has c * 36 features
        if head == "pooled":
            flat, width = b.node("Flatten", [b.node("GlobalAveragePool", [x])]), c
        elif head == "flatten":
            flat, width = b.node("Flatten", [x]), c * 36
        else:  # a Keras Flatten as tf2onnx writes it: channels last, so each channel's features are 1 in c apart
            nhwc = b.node("Transpose", [x], perm=[0, 2, 3, 1])
            flat = b.node("Flatten", [nhwc]) if head == "nhwc_flatten" else \
                b.node("Reshape", [nhwc, b.init(np.array([1, -1], np.int64))])
            width = c * 36
        hidden = draw(st.integers(1, 16))
        h = b.node("Relu", [b.node("Gemm", [flat, b.init(b.rand(hidden, width)), b.init(b.rand(hidden))], transB=1)])
        x = b.node("Gemm", [h, b.init(b.rand(c and 4, hidden))], transB=1)
    model = b.model([("x", [1, 3, 6, 6])], [x])
    options = {"ratio": draw(st.floats(0.05, 0.9)), "round_to": draw(st.sampled_from([1, 1, 1, 2, 8])),
               "min_channels": draw(st.integers(1, 3)), "criterion": draw(st.sampled_from(["fpgm", "fpgm", "l1"])),
               "distance": draw(st.sampled_from(["l2", "l1"]))}
    return model, options


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(cnn())
def test_random_cnns_prune_exactly_or_decline(case):
    model, options = case
    try:
        pruned, report = onnxfpgm.prune(model, latency_runs=0, **options)
    except onnxfpgm.OnnxFpgmError as exc:
        assert not isinstance(exc, onnxfpgm.ValidationError), str(exc)
        event(f"declined: {type(exc).__name__}")
        return
    event("pruned")
    onnx.checker.check_model(pruned, full_check=True)
    assert report.validation is not None and report.validation.passed
    x = {"x": np.random.default_rng(0).standard_normal((1, 3, 6, 6)).astype(np.float32)}
    assert [y.shape for y in run(model, x)] == [y.shape for y in run(pruned, x)]
