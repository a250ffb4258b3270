"""FPGM distance sums and filter norms with numpy (float32 BLAS for speed)."""

from __future__ import annotations

import numpy as np

_L1_CHUNK_ELEMENTS = 1 << 24
_BAND_BLOCK_BYTES = 1 << 21  # filters compared at once with each re-scored row: a block that stays in L2/L3 cache


def fpgm(filters: np.ndarray, distance: str) -> np.ndarray:
    """Sum over j of ||f_c - f_j|| for every row c of `filters` ([C, D]), as float64."""
    w = np.ascontiguousarray(filters, dtype=np.float32)
    if distance == "l2":
        d2 = w @ w.T  # one SYRK call: half the flops of a general product
        sq = d2.diagonal().copy()
        d2 *= -2.0  # in place from here on: |a|^2 + |b|^2 - 2 a.b
        d2 += sq[:, None]
        d2 += sq[None, :]
        np.maximum(d2, 0.0, out=d2)
        np.fill_diagonal(d2, 0.0)
        return np.sqrt(d2, out=d2).sum(axis=1, dtype=np.float64)
    n, d = w.shape
    rows = max(1, _L1_CHUNK_ELEMENTS // max(n * d, 1))
    out = np.empty(n, dtype=np.float64)
    for start in range(0, n, rows):
        block = np.abs(w[start:start + rows, None, :] - w[None, :, :]).sum(axis=2, dtype=np.float64)
        out[start:start + rows] = block.sum(axis=1)
    return out


def exact_fpgm_rows(filters: np.ndarray, rows: np.ndarray, distance: str) -> np.ndarray:
    """The same sums for the chosen rows only, from direct differences (no Gram matrix, so no cancellation) and
    summed in float64, row by row, by this one function on every backend, so that every backend ranks them alike.
    The filters are walked in blocks that stay in cache while every chosen row is compared with them."""
    w = np.asarray(filters, dtype=np.float32)
    n, d = w.shape
    chosen = w[np.asarray(rows, dtype=np.int64)]
    step = max(1, _BAND_BLOCK_BYTES // max(4 * d, 1))
    parts = np.empty((len(chosen), n), dtype=np.float64)  # per chosen row: its distance (squared for L2) to each
    for start in range(0, n, step):
        block = w[start:start + step]
        for k, row in enumerate(chosen):
            diff = block - row
            if distance == "l2":
                parts[k, start:start + step] = np.einsum("ij,ij->i", diff, diff)
            else:
                parts[k, start:start + step] = np.abs(diff).sum(axis=1)
    return (np.sqrt(parts) if distance == "l2" else parts).sum(axis=1)


def norms(filters: np.ndarray, p: int) -> np.ndarray:
    """L1 or L2 norm of every row, float64."""
    w = np.asarray(filters, dtype=np.float64)
    return np.abs(w).sum(axis=1) if p == 1 else np.sqrt(np.einsum("ij,ij->i", w, w))
