"""The sample model in models/: prunes through the CLI as the README shows, and the accuracy script runs."""

import subprocess
import sys
from pathlib import Path

import onnx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "models"))
from evaluate import accuracy  # noqa: E402


def test_readme_command_on_the_sample_model(tmp_path):
    out = tmp_path / "pruned.onnx"
    result = subprocess.run([sys.executable, "-m", "onnxfpgm", "prune", str(ROOT / "models" / "digits_resnet.onnx"),
                             str(out), "--ratio", "0.3"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "validate passed" in result.stdout
    onnx.checker.check_model(onnx.load(str(out)), full_check=True)
    assert accuracy(str(ROOT / "models" / "digits_resnet.onnx")) > 0.95
    assert 0.0 <= accuracy(str(out)) <= 1.0
    assert any(n.op_type == "BatchNormalization" for n in onnx.load(str(out)).graph.node)


def test_package_is_mypy_clean():
    result = subprocess.run([sys.executable, "-m", "mypy", str(ROOT / "onnxfpgm")], capture_output=True, text=True,
                            cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stdout
