"""FPGM kernel speed: onnxfpgm's numpy and torch-CPU kernels against torch.ao.pruning's FPGMPruner.

Prints, for each weight shape, the best time of each kernel over repeated runs, the ratio torch.ao / ours, the
largest relative score difference, and whether the selections at ratio 0.3 agree. The last column is the ceiling
any exact kernel has on this machine: torch.ao's time over the time of the bare float32 Gram product W @ W.T
(numpy's SYRK, the least arithmetic an exact FPGM needs), with no distance, square root or sum after it.
Run: python benchmarks/fpgm_kernel.py
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch.ao.pruning._experimental.pruner import FPGMPruner

from onnxfpgm.scoring import channel_scores, removal_count, select_removed

SHAPES = [(64, 576), (512, 4608), (2048, 4608)]


def timed(fn, repeat: int) -> tuple[float, object]:
    """The best of `repeat` runs after a warm-up: on a shared machine the minimum is the least disturbed figure."""
    fn()
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    torch.set_num_threads(torch.get_num_threads())
    pruner = FPGMPruner(0.3)
    print(f"{'shape':>12} {'torch.ao':>10} {'numpy':>10} {'torch-cpu':>10} {'ao/numpy':>9} {'ao/torch':>9} "
          f"{'max rel diff':>12} {'same pick':>9} {'ao/Gram':>8}")
    for n, d in SHAPES:
        w = np.random.default_rng(n).standard_normal((n, d)).astype(np.float32)
        t = torch.from_numpy(w)
        repeat = 5 if n > 1000 else 20
        t_ao, ref = timed(lambda: pruner._compute_distance(t), repeat)
        t_np, ours_np = timed(lambda: channel_scores(w, backend="numpy"), repeat)
        t_tc, ours_tc = timed(lambda: channel_scores(w, backend="torch-cpu"), repeat)
        t_gram, _ = timed(lambda: w @ w.T, repeat)
        ref_np = ref.numpy().astype(np.float64)  # type: ignore[attr-defined]
        diff = max(float(np.max(np.abs(o - ref_np) / np.abs(ref_np))) for o in (ours_np, ours_tc))  # type: ignore
        k = removal_count(n, 0.3)
        ao_pick = np.sort(torch.topk(torch.from_numpy(ref_np), k, largest=False).indices.numpy())
        picks = [select_removed(w, s, k) for s in (ours_np, ours_tc)]  # type: ignore[arg-type]
        same = all(np.array_equal(p, ao_pick) for p in picks)
        print(f"{n:>5}x{d:<6} {t_ao * 1e3:>8.2f}ms {t_np * 1e3:>8.2f}ms {t_tc * 1e3:>8.2f}ms {t_ao / t_np:>8.2f}x "
              f"{t_ao / t_tc:>8.2f}x {diff:>12.2e} {str(same):>9} {t_ao / t_gram:>7.2f}x")


if __name__ == "__main__":
    main()
