"""onnxfpgm: structured channel pruning of ONNX models with FPGM, checked by onnxruntime."""

from __future__ import annotations

__version__ = "0.1.0"

from .api import dry_run, inspect, prune, score  # noqa: E402
from .config import PruneConfig  # noqa: E402
from .errors import (  # noqa: E402
    InputError,
    NothingToPruneError,
    OnnxFpgmError,
    OutputError,
    UnsupportedModelError,
    UsageError,
    ValidationError,
)
from .groups import ChannelGroup  # noqa: E402
from .io import load_model, save_model  # noqa: E402
from .report import PruneReport  # noqa: E402

__all__ = [
    "ChannelGroup", "InputError", "NothingToPruneError", "OnnxFpgmError", "OutputError", "PruneConfig",
    "PruneReport", "UnsupportedModelError", "UsageError", "ValidationError", "__version__", "dry_run", "inspect",
    "load_model", "prune", "save_model", "score",
]
