"""FPGM distance sums with torch, on CUDA when present (imported only when that backend is chosen)."""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import numpy as np


def _torch() -> Any:
    import torch

    return torch


def cuda_available() -> bool:
    """True when torch can use a CUDA device; torch is not imported where no NVIDIA driver or no torch is present."""
    if importlib.util.find_spec("torch") is None:
        return False
    if not (os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/nvidia0")
            or os.name == "nt"):
        return False
    try:
        return bool(_torch().cuda.is_available())
    except ImportError:
        return False


def fpgm(filters: np.ndarray, distance: str, device: str = "cpu") -> np.ndarray:
    """Sum over j of ||f_c - f_j|| for every row c, computed by torch on `device`, returned as float64 numpy."""
    torch = _torch()
    with torch.no_grad():
        w = torch.from_numpy(np.ascontiguousarray(filters, dtype=np.float32)).to(device)
        if distance == "l2":
            sq = (w * w).sum(dim=1)
            d2 = sq[:, None] + sq[None, :] - 2.0 * (w @ w.T)
            d2.clamp_(min=0.0).fill_diagonal_(0.0)
            sums = d2.sqrt_().sum(dim=1, dtype=torch.float64)
        else:
            sums = torch.cdist(w, w, p=1).sum(dim=1, dtype=torch.float64)
        return sums.cpu().numpy()
