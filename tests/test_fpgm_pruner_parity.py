"""Whole-pipeline parity with torch.ao.pruning's FPGMPruner: a torch CNN exported to ONNX and pruned by onnxfpgm
with per-layer ratios loses exactly the filters FPGMPruner's update_mask zeroes in the same layers."""

import warnings

import numpy as np
import torch
from torch import nn
from torch.ao.pruning._experimental.pruner import FPGMPruner

import onnxfpgm


def test_removed_filters_equal_update_mask_per_layer(tmp_path):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 24, 3, padding=1), nn.ReLU(), nn.Conv2d(24, 40, 3, padding=1), nn.ReLU(),
                        nn.Conv2d(40, 10, 1)).eval()
    path = tmp_path / "net.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, torch.randn(1, 3, 8, 8), str(path), opset_version=17, dynamo=False)
    ratios = {"/0/Conv": 0.25, "/2/Conv": 0.7}
    _, report = onnxfpgm.prune(str(path), ratio=0.0, layer_ratios=ratios, round_to=1, latency_runs=0)
    kept = {layer.node: set(layer.kept_out) for layer in report.layers}

    pruner = FPGMPruner(0.5)
    config = [{"tensor_fqn": "0.weight", "sparsity_level": 0.25}, {"tensor_fqn": "2.weight", "sparsity_level": 0.7}]
    pruner.prepare(net, config)
    pruner.enable_mask_update = True
    pruner.step()
    for index, node in (("0", "/0/Conv"), ("2", "/2/Conv")):
        mask = getattr(net, index).parametrizations.weight[0].mask.numpy()
        removed = set(np.flatnonzero(~mask).tolist())
        assert removed == set(range(len(mask))) - kept[node]
        assert len(removed) == round(ratios[node] * len(mask))
