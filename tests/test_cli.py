"""The command line, as a user runs it: exit codes, one-line errors, no partial output, input untouched."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from graphs import Builder
from onnx import helper

import onnxfpgm


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "onnxfpgm", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


@pytest.fixture
def model_path(tmp_path):
    b = Builder()
    c1 = b.conv("x", 3, 8)
    c2 = b.conv(b.node("Relu", [b.bn(c1, 8)]), 8, 6)
    flat = b.node("Flatten", [b.node("GlobalAveragePool", [b.node("Relu", [c2])])])
    y = b.node("Gemm", [flat, b.init(b.rand(4, 6)), b.init(b.rand(4))], transB=1)
    path = tmp_path / "in.onnx"
    onnx.save(b.model([("x", ["batch", 3, 8, 8])], [y]), str(path))
    return path


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def assert_clean_failure(result, code, text, out_dir, before_files):
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and text in lines[0], result.stderr
    assert sorted(os.listdir(out_dir)) == before_files


def test_prune_prints_summary_and_writes_valid_model(model_path, tmp_path):
    out, rep = tmp_path / "out.onnx", tmp_path / "r.json"
    result = run("prune", model_path, out, "--ratio", "0.5", "--round-to", "1", "--report", rep,
                 "--input-shape", "x:2x3x8x8")
    assert result.returncode == 0, result.stderr
    for word in ("groups", "channels", "params", "MACs", "size", "validate passed", "latency"):
        assert word in result.stdout
    model = onnx.load(str(out))
    onnx.checker.check_model(model, full_check=True)
    report = json.loads(rep.read_text())
    assert report["schema"] == "onnxfpgm.report/1"
    assert report["validation"]["passed"] and report["totals"]["params_after"] < report["totals"]["params_before"]
    assert report["options"]["input_shapes"] == {"x": [2, 3, 8, 8]}
    assert {"id", "members", "producers", "consumers", "channels_before", "channels_after", "kept", "status",
            "reason"} <= set(report["groups"][0])
    assert {"node", "out_before", "out_after", "in_before", "in_after", "kept_out"} <= set(report["layers"][0])


def test_dry_run_writes_no_model(model_path, tmp_path):
    out = tmp_path / "out.onnx"
    result = run("prune", model_path, out, "--dry-run", "--round-to", "1")
    assert result.returncode == 0 and not out.exists() and "dry run" in result.stdout


def test_inspect_and_score(model_path):
    result = run("inspect", model_path)
    assert result.returncode == 0 and "prunable" in result.stdout and "why fixed" in result.stdout
    data = json.loads(run("inspect", model_path, "--json").stdout)
    assert any(g["fixed"] and "graph output" in g["fixed"] for g in data)
    scores = json.loads(run("score", model_path).stdout)
    assert scores["criterion"] == "fpgm" and all(len(v) in (8, 6) for v in scores["groups"].values())
    csv_lines = run("score", model_path, "--format", "csv", "--criterion", "l1").stdout.splitlines()
    assert csv_lines[0] == "group,channel,score" and len(csv_lines) == 1 + 8 + 6


def test_version_and_module_entry_point():
    result = run("--version")
    assert result.returncode == 0 and onnxfpgm.__version__ in result.stdout


@pytest.mark.parametrize("case", ["missing", "directory", "empty", "random", "truncated", "not_model", "no_conv",
                                  "checker", "quantized"])
def test_bad_inputs_fail_cleanly(case, model_path, tmp_path):
    bad = tmp_path / "bad.onnx"
    if case == "missing":
        bad = tmp_path / "nope.onnx"
    elif case == "directory":
        bad = tmp_path / "adir"
        bad.mkdir()
    elif case == "empty":
        bad.write_bytes(b"")
    elif case == "random":
        bad.write_bytes(np.random.default_rng(0).bytes(4096))
    elif case == "truncated":
        bad.write_bytes(model_path.read_bytes()[: model_path.stat().st_size // 2])
    elif case == "not_model":
        bad.write_bytes(onnx.numpy_helper.from_array(np.zeros(3, np.float32), "t").SerializeToString())
    elif case == "no_conv":
        g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", 1, [1, 3])],
                              [helper.make_tensor_value_info("y", 1, [1, 3])])
        onnx.save(helper.make_model(g), str(bad))
    elif case == "checker":
        g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"]), helper.make_node("Relu", ["y"], ["x"])], "g",
                              [helper.make_tensor_value_info("x", 1, [1, 3])],
                              [helper.make_tensor_value_info("y", 1, [1, 3])])
        onnx.save(helper.make_model(g), str(bad))
    elif case == "quantized":
        g = helper.make_graph([helper.make_node("DequantizeLinear", ["q", "s"], ["y"])], "g",
                              [helper.make_tensor_value_info("q", onnx.TensorProto.UINT8, [1, 3])],
                              [helper.make_tensor_value_info("y", 1, [1, 3])],
                              [onnx.numpy_helper.from_array(np.array(0.1, np.float32), "s")])
        onnx.save(helper.make_model(g), str(bad))
    before = sorted(os.listdir(tmp_path))
    digest_before = digest(bad) if bad.is_file() else None
    expected = {"missing": "not found", "directory": "not a regular file", "empty": "empty", "random": "not an ONNX",
                "truncated": "not an ONNX", "not_model": "not an ONNX", "no_conv": "no Conv",
                "checker": "ONNX checker", "quantized": "quantized"}[case]
    result = run("prune", bad, tmp_path / "out.onnx")
    assert_clean_failure(result, 1, expected, tmp_path, before)
    if digest_before:
        assert digest(bad) == digest_before


def test_output_errors(model_path, tmp_path):
    before = sorted(os.listdir(tmp_path))
    h = digest(model_path)
    assert_clean_failure(run("prune", model_path, model_path), 2, "is the input", tmp_path, before)
    existing = tmp_path / "exists.onnx"
    existing.write_bytes(b"keep")
    before = sorted(os.listdir(tmp_path))
    assert_clean_failure(run("prune", model_path, existing), 1, "exists", tmp_path, before)
    assert existing.read_bytes() == b"keep"
    assert_clean_failure(run("prune", model_path, tmp_path / "no" / "out.onnx"), 1, "does not exist", tmp_path,
                         before)
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        assert_clean_failure(run("prune", model_path, ro / "o.onnx"), 1, "not writable", tmp_path,
                             sorted(os.listdir(tmp_path)))
    assert run("prune", model_path, existing, "--force", "--round-to", "1").returncode == 0
    assert digest(model_path) == h


@pytest.mark.parametrize("args,text", [
    (["--ratio", "1.0"], "ratio must be in [0, 1)"),
    (["--ratio", "abc"], "Invalid value"),
    (["--criterion", "l3"], "Invalid value"),
    (["--input-shape", "x:1xAx3"], "input shape"),
    (["--input-shape", "nope:1x3x8x8"], "names no graph input"),
    (["--layer-ratio", "conv*"], "PATTERN=RATIO"),
    (["--round-to", "0"], "round_to"),
])
def test_bad_options_are_usage_errors(model_path, tmp_path, args, text):
    result = run("prune", model_path, tmp_path / "o.onnx", *args)
    assert result.returncode == 2 and text in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o.onnx").exists()


def test_nothing_to_prune_exits_1_without_output(model_path, tmp_path):
    result = run("prune", model_path, tmp_path / "o.onnx", "--ratio", "0.01")
    assert result.returncode == 1 and "nothing to prune" in result.stderr
    assert not (tmp_path / "o.onnx").exists()
