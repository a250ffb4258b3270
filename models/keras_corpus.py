"""Keras models exported to ONNX by tf2onnx: the TensorFlow side of the corpus (NHWC graphs, Keras Flatten heads).

Run inside an environment with TensorFlow and tf2onnx (`models/corpus.py` makes one in its cache):
    python models/keras_corpus.py OUT_FOLDER [NAME ...]
Weights are random; BatchNormalization statistics are randomized as well, so that no layer is an identity.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def flatten_cnn(keras: Any) -> Any:
    """A small Keras-style CNN: Conv/BN, a residual Add, a depthwise Conv and a Flatten of NHWC features into Dense."""
    layers = keras.layers
    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D()(x)
    y = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(32, 3, padding="same")(x)))
    x = layers.Add()([y, layers.Conv2D(32, 1)(x)])
    x = layers.DepthwiseConv2D(3, padding="same")(x)
    x = layers.Conv2D(24, 1, activation="relu6")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Dense(32, activation="relu")(layers.Flatten()(x))
    return keras.Model(inputs, layers.Dense(10)(x))


def _applications(name: str, size: int) -> Callable[[Any], Any]:
    def build(keras: Any) -> Any:
        return getattr(keras.applications, name)(input_shape=(size, size, 3), weights=None, classes=10,
                                                 classifier_activation=None)
    return build


MODELS: dict[str, Callable[[Any], Any]] = {
    "keras_flatten_cnn": flatten_cnn,
    "keras_mobilenetv2": _applications("MobileNetV2", 64),
    "keras_mobilenetv3small": _applications("MobileNetV3Small", 64),
    "keras_resnet50": _applications("ResNet50", 64),
    "keras_efficientnetb0": _applications("EfficientNetB0", 64),
    "keras_densenet121": _applications("DenseNet121", 64),
    "keras_xception": _applications("Xception", 71),
    "keras_nasnetmobile": _applications("NASNetMobile", 64),
}


def randomize_bn(model: Any) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    for layer in model.layers:
        if type(layer).__name__ != "BatchNormalization":
            continue
        values = []
        for w in layer.weights:
            shape, kind = tuple(w.shape), w.name.split("/")[-1].split(":")[0]
            if kind == "gamma":
                values.append(rng.uniform(0.5, 1.5, shape))
            elif kind == "moving_variance":
                values.append(rng.uniform(0.5, 2.0, shape))
            else:  # beta, moving_mean
                values.append(rng.normal(0.0, 0.1, shape))
        layer.set_weights([v.astype("float32") for v in values])


def export(name: str, folder: Path) -> None:
    import tensorflow as tf
    import tf2onnx

    tf.keras.utils.set_random_seed(0)
    model = MODELS[name](tf.keras)
    randomize_bn(model)
    spec = (tf.TensorSpec((1, *model.input_shape[1:]), tf.float32, name="input"),)
    tmp = folder / f"{name}.onnx.tmp"
    tf2onnx.convert.from_keras(model, input_signature=spec, opset=17, output_path=str(tmp))
    os.replace(tmp, folder / f"{name}.onnx")


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for key in sys.argv[2:] or list(MODELS):
        if not (out / f"{key}.onnx").exists():
            export(key, out)
            print(key, flush=True)
