"""Accuracy of a digits model on the held-out set: python models/evaluate.py MODEL.onnx [MODEL2.onnx ...]"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort


HOLDOUT = Path(__file__).with_name("digits_holdout.npz")


def accuracy(path: str, holdout: Path = HOLDOUT) -> float:
    data = np.load(holdout)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    logits = sess.run(None, {sess.get_inputs()[0].name: data["images"]})[0]
    return float((logits.argmax(1) == data["labels"]).mean())


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(f"{arg}: accuracy {accuracy(arg):.4f} on {len(np.load(HOLDOUT)['labels'])} held-out digits")
