"""Channel scores (FPGM, L1, L2) and the selection of channels to remove, identical on every backend.

The fast kernels run in float32 BLAS (numpy) or torch. Their rounding differs, so the selection does not trust them
near the cut: every channel whose fast score lies within a small band of the cut is scored again from direct
differences (no Gram-matrix cancellation), summed in float64 by the same numpy code on every backend, and ranked
by (that score, channel index).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..errors import UsageError
from . import numpy_kernel

Backend = Literal["numpy", "torch-cpu", "torch-cuda"]
# Relative width of the band around the cut that is re-scored exactly: ten times the largest float32 kernel error
# measured against float64 (2.3e-6 of the largest score, on layers up to 2048 x 4608).
BAND = 2e-5


def resolve_backend(device: str) -> Backend:
    """`auto`: torch on CUDA when available, else numpy; `cpu`: numpy; `cuda`: torch on CUDA or a usage error."""
    from . import torch_kernel

    if device == "cpu":
        return "numpy"
    if device == "cuda":
        if not torch_kernel.cuda_available():
            raise UsageError("--device cuda needs torch with a CUDA device (pip install 'onnxfpgm[torch]')")
        return "torch-cuda"
    return "torch-cuda" if torch_kernel.cuda_available() else "numpy"


def channel_scores(filters: np.ndarray, criterion: str = "fpgm", distance: str = "l2",
                   backend: Backend = "numpy") -> np.ndarray:
    """One float64 score per row of `filters` ([C, D]); the lowest scores are removed first."""
    if criterion == "l1":
        return numpy_kernel.norms(filters, 1)
    if criterion == "l2":
        return numpy_kernel.norms(filters, 2)
    if backend == "numpy":
        return numpy_kernel.fpgm(filters, distance)
    from . import torch_kernel

    return torch_kernel.fpgm(filters, distance, "cuda" if backend == "torch-cuda" else "cpu")


def removal_count(channels: int, ratio: float, min_channels: int = 1, round_to: int = 1) -> int:
    """round(ratio * C), half to even as FPGMPruner does; at least `min_channels` kept (or all, when C is smaller);
    the kept count rounded up to a multiple of `round_to` (never above C)."""
    remove = min(max(round(ratio * channels), 0), channels)
    keep = max(channels - remove, min(min_channels, channels))
    if round_to > 1:
        keep = min(-(-keep // round_to) * round_to, channels)
    return channels - keep


def select_removed(filters: np.ndarray, scores: np.ndarray, count: int, criterion: str = "fpgm",
                   distance: str = "l2", among: np.ndarray | None = None) -> np.ndarray:
    """The `count` channels with the lowest scores among the channels `among` (all by default; one block of a
    grouped convolution), ties to the lowest index, sorted ascending. Channels near the cut are scored again
    against every row of `filters`, as the fast scores were."""
    index = np.arange(len(scores)) if among is None else np.asarray(among, dtype=np.int64)
    if count <= 0:
        return np.zeros(0, dtype=np.int64)
    if count >= len(index):
        return np.sort(index)
    candidates = scores[index]
    order = np.lexsort((index, candidates))
    if criterion != "fpgm":  # norms are computed exactly in float64 on every backend
        return np.sort(index[order[:count]])
    low, high = candidates[order[count - 1]], candidates[order[count]]
    tol = BAND * max(float(np.abs(scores).max()), np.finfo(np.float64).tiny)
    sure = index[candidates < low - tol]
    band = index[(candidates >= low - tol) & (candidates <= high + tol)]
    exact = numpy_kernel.exact_fpgm_rows(filters, band, distance)
    chosen = band[np.lexsort((band, exact))][: count - len(sure)]
    return np.sort(np.concatenate([sure, chosen]))


__all__ = ["Backend", "channel_scores", "removal_count", "resolve_backend", "select_removed"]
