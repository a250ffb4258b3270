"""Groups + scores + config -> PrunePlan: which channels of every group are kept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import onnx_graphsurgeon as gs

from .config import PruneConfig
from .constants import constant_value
from .groups import Analysis, ChannelGroup
from .scoring import removal_count, select_removed


@dataclass(frozen=True)
class GroupPlan:
    """The decision for one group: kept channel indices in original numbering, and why."""

    group: int
    status: str  # "pruned" | "fixed" | "excluded" | "kept"
    kept: tuple[int, ...]
    ratio: float
    reason: str | None = None


@dataclass(frozen=True)
class PrunePlan:
    groups: tuple[GroupPlan, ...]

    def kept(self, group: int) -> tuple[int, ...]:
        return self.groups[group].kept

    @property
    def changes_anything(self) -> bool:
        return any(g.status == "pruned" for g in self.groups)


def group_filters(graph: gs.Graph, analysis: Analysis, group: ChannelGroup) -> np.ndarray:
    """Filter matrix [C, D] of a group: each channel's slices in every producer, concatenated in node order."""
    parts = []
    for use, offset in analysis.producer_uses(group.id):
        value = constant_value(graph.nodes[use.node].inputs[use.input])
        assert value is not None
        rows = np.moveaxis(np.asarray(value), use.axis, 0)[offset:offset + group.channels]
        parts.append(rows.reshape(group.channels, -1))
    return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]


def make_plan(analysis: Analysis, config: PruneConfig, scores: dict[int, np.ndarray],
              filters: Callable[[ChannelGroup], np.ndarray]) -> PrunePlan:
    """Decide the kept channels of every group; `filters` gives a group's filter matrix for the exact re-scoring
    of channels near the cut (see scoring.select_removed)."""
    plans = []
    for g in analysis.groups:
        everything = tuple(range(g.channels))
        if not g.prunable:
            plans.append(GroupPlan(g.id, "fixed", everything, 0.0, g.fixed))
            continue
        excluded = config.excluded_by(list(g.producers))
        if excluded:
            plans.append(GroupPlan(g.id, "excluded", everything, 0.0, excluded))
            continue
        ratio = config.ratio_for(list(g.producers))
        count = removal_count(g.channels, ratio, config.min_channels, config.round_to)
        size = g.channels // g.blocks
        per_block = size - -(-(g.channels - count) // g.blocks)  # removed from each block; the kept count rounds up
        if per_block <= 0:
            plans.append(GroupPlan(g.id, "kept", everything, ratio, "the ratio removes no channel"))
            continue
        matrix = filters(g) if config.criterion == "fpgm" else np.zeros((g.channels, 0))
        removed = [select_removed(matrix, scores[g.id], per_block, config.criterion, config.distance,
                                  among=np.arange(start, start + size))
                   for start in range(0, g.channels, size)]
        kept = tuple(int(i) for i in np.setdiff1d(np.arange(g.channels), np.concatenate(removed)))
        plans.append(GroupPlan(g.id, "pruned", kept, ratio))
    return PrunePlan(tuple(plans))
