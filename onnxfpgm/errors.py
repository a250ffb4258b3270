"""One error hierarchy: every failure a user can cause or meet is an OnnxFpgmError with one clear line."""

from __future__ import annotations


class OnnxFpgmError(Exception):
    """Base of every error onnxfpgm raises on purpose. The CLI prints it as one line and exits 1."""

    exit_code = 1


class UsageError(OnnxFpgmError):
    """A bad option value or combination (exit status 2 at the CLI)."""

    exit_code = 2


class InputError(OnnxFpgmError):
    """The input file is missing, not ONNX, truncated or malformed."""


class UnsupportedModelError(OnnxFpgmError):
    """The model is valid ONNX but onnxfpgm cannot prune it (quantized, no prunable Conv...)."""


class NothingToPruneError(OnnxFpgmError):
    """Every channel group is fixed or the ratio removes no channel."""


class OutputError(OnnxFpgmError):
    """The output or report path cannot be written."""


class ValidationError(OnnxFpgmError):
    """The pruned model failed a check (ONNX checker, shape inference, onnxruntime or exactness)."""
