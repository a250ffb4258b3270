"""FPGM scores and selections against torch.ao.pruning's FPGMPruner, on both kernels."""

import numpy as np
import pytest
import torch
from torch.ao.pruning._experimental.pruner import FPGMPruner

from onnxfpgm.scoring import channel_scores, removal_count, select_removed


def ao_distance(w: np.ndarray, dist: int = 2) -> np.ndarray:
    return FPGMPruner(0.5, dist=dist)._compute_distance(torch.from_numpy(w)).numpy()


def ao_removed(w: np.ndarray, ratio: float, dist: int = 2) -> np.ndarray:
    """The filters FPGMPruner.update_mask zeroes for a Conv2d with weight `w`."""
    conv = torch.nn.Conv2d(w.shape[1], w.shape[0], w.shape[2], bias=False)
    conv.weight.data = torch.from_numpy(w.copy())
    model = torch.nn.Sequential(conv)
    pruner = FPGMPruner(ratio, dist=dist)
    pruner.prepare(model, [{"tensor_fqn": "0.weight"}])
    pruner.enable_mask_update = True
    pruner.step()
    mask = model[0].parametrizations.weight[0].mask
    return np.flatnonzero(~mask.numpy())


def test_hand_made_weights_known_answer():
    # Points on a line at 0, 1, 2, 10: sums of distances 13, 11, 11, 27 (L2 and L1 alike in 1-D).
    w = np.array([[0.0], [1.0], [2.0], [10.0]], np.float32)
    for backend in ("numpy", "torch-cpu"):
        np.testing.assert_allclose(channel_scores(w, "fpgm", "l2", backend), [13, 11, 11, 27], rtol=1e-6)
        np.testing.assert_allclose(channel_scores(w, "fpgm", "l1", backend), [13, 11, 11, 27], rtol=1e-6)
    np.testing.assert_allclose(ao_distance(w.reshape(4, 1, 1, 1)), [13, 11, 11, 27], rtol=1e-6)
    scores = channel_scores(w)
    assert list(select_removed(w, scores, 1)) == [1]  # a tie between 1 and 2 goes to the lowest index
    assert list(select_removed(w, scores, 2)) == [1, 2]


@pytest.mark.parametrize("shape", [(64, 64, 3, 3), (512, 512, 3, 3), (16, 3, 7, 7), (128, 64, 1, 1)])
@pytest.mark.parametrize("dist", [2, 1])
def test_scores_match_torch_ao_on_real_layer_sizes(shape, dist):
    if dist == 1 and shape[0] > 128:
        pytest.skip("L1 all-pairs on the largest layer is slow in torch.ao itself")
    w = np.random.default_rng(shape[0]).standard_normal(shape).astype(np.float32)
    expected = ao_distance(w, dist)
    flat = w.reshape(shape[0], -1)
    for backend in ("numpy", "torch-cpu"):
        ours = channel_scores(flat, "fpgm", "l2" if dist == 2 else "l1", backend)
        np.testing.assert_allclose(ours, expected, rtol=2e-5)


@pytest.mark.parametrize("ratio", [0.1, 0.25, 0.3, 0.5, 0.7, 0.9])
@pytest.mark.parametrize("out_channels", [5, 10, 64])
def test_removed_filters_match_update_mask(ratio, out_channels):
    w = np.random.default_rng(out_channels).standard_normal((out_channels, 8, 3, 3)).astype(np.float32)
    count = removal_count(out_channels, ratio)
    ours = select_removed(w.reshape(out_channels, -1), channel_scores(w.reshape(out_channels, -1)), count)
    np.testing.assert_array_equal(ours, ao_removed(w, ratio))


def test_removal_count_rounds_half_to_even_like_fpgm_pruner():
    assert removal_count(10, 0.25) == 2  # 2.5 -> 2
    assert removal_count(6, 0.25) == 2  # 1.5 -> 2
    assert removal_count(5, 0.5) == 2  # 2.5 -> 2
    assert removal_count(7, 0.5) == 4  # 3.5 -> 4
    for channels in range(1, 40):
        for ratio in (0.1, 0.3, 0.5, 0.75):
            assert removal_count(channels, ratio) == min(round(ratio * channels), channels - 1) or channels == 1


def test_min_channels_and_round_to():
    assert removal_count(10, 0.95, min_channels=1) == 9
    assert removal_count(10, 0.95, min_channels=4) == 6
    assert removal_count(3, 0.9, min_channels=8) == 0  # a group smaller than min_channels is kept whole
    assert removal_count(134, 0.3, round_to=8) == 134 - 96  # 94 kept rounds up to 96
    assert removal_count(20, 0.3, round_to=8) == 20 - 16
    assert removal_count(10, 0.1, round_to=8) == 0  # 9 kept rounds up to 16, capped at 10


def test_numpy_and_torch_choose_the_same_channels_even_with_near_ties():
    rng = np.random.default_rng(7)
    for _ in range(20):
        n = int(rng.integers(8, 200))
        w = rng.standard_normal((n, int(rng.integers(4, 300)))).astype(np.float32)
        w[n // 2] = w[n // 3] * (1 + 1e-7)  # a near-duplicate pair: scores tie within float32 noise
        w[n // 4] = w[n // 5]  # an exact duplicate pair
        count = removal_count(n, float(rng.uniform(0.1, 0.9)))
        picks = [select_removed(w, channel_scores(w, backend=b), count) for b in ("numpy", "torch-cpu")]
        np.testing.assert_array_equal(picks[0], picks[1])


def test_norm_criteria_are_baselines():
    w = np.array([[3.0, 4.0], [1.0, 1.0], [0.0, -6.0]], np.float32)
    np.testing.assert_allclose(channel_scores(w, "l2"), [5.0, np.sqrt(2), 6.0])
    np.testing.assert_allclose(channel_scores(w, "l1"), [7.0, 2.0, 6.0])
    assert list(select_removed(w, channel_scores(w, "l1"), 1, "l1")) == [1]
