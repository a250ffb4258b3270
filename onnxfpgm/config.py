"""Prune options as one frozen dataclass, built from keyword arguments or a JSON config file."""

from __future__ import annotations

import fnmatch
import json
import math
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

from .errors import UsageError

CRITERIA = ("fpgm", "l1", "l2")
DISTANCES = ("l2", "l1")
DEVICES = ("auto", "cpu", "cuda")


def _check_ratio(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(float(value)):
        raise UsageError(f"{what} must be a number in [0, 1), got {value!r}")
    if not 0.0 <= float(value) < 1.0:
        raise UsageError(f"{what} must be in [0, 1), got {value}")
    return float(value)


@dataclass(frozen=True)
class PruneConfig:
    """Everything that decides which channels go. Patterns are fnmatch globs on node names."""

    ratio: float = 0.3
    criterion: str = "fpgm"
    distance: str = "l2"
    layer_ratios: tuple[tuple[str, float], ...] = ()
    exclude: tuple[str, ...] = ()
    min_channels: int = 1
    round_to: int = 8  # aligned counts keep onnxruntime's vectorized kernels (benchmarks/latency.py); 1: FPGMPruner's
    device: str = "auto"
    input_shapes: tuple[tuple[str, tuple[int, ...]], ...] = ()
    validate: bool = True
    tolerance: float = 1e-4
    seed: int = 0
    latency_runs: int = 10

    def __post_init__(self) -> None:
        _check_ratio(self.ratio, "ratio")
        for pattern, value in self.layer_ratios:
            _check_ratio(value, f"ratio for {pattern!r}")
        if self.criterion not in CRITERIA:
            raise UsageError(f"criterion must be one of {', '.join(CRITERIA)}, got {self.criterion!r}")
        if self.distance not in DISTANCES:
            raise UsageError(f"distance must be one of {', '.join(DISTANCES)}, got {self.distance!r}")
        if self.device not in DEVICES:
            raise UsageError(f"device must be one of {', '.join(DEVICES)}, got {self.device!r}")
        if isinstance(self.min_channels, bool) or not isinstance(self.min_channels, int) or self.min_channels < 1:
            raise UsageError(f"min_channels must be an integer >= 1, got {self.min_channels!r}")
        if isinstance(self.round_to, bool) or not isinstance(self.round_to, int) or self.round_to < 1:
            raise UsageError(f"round_to must be an integer >= 1, got {self.round_to!r}")
        if not self.tolerance > 0:
            raise UsageError(f"tolerance must be > 0, got {self.tolerance!r}")
        for name, dims in self.input_shapes:
            if not dims or any(d < 1 for d in dims):
                raise UsageError(f"input shape for {name!r} must be positive dimensions, got {dims}")

    def ratio_for(self, node_names: list[str]) -> float:
        """The ratio for a group whose producers are `node_names`: the smallest matching layer ratio, else `ratio`."""
        matched = [r for pattern, r in self.layer_ratios for n in node_names if fnmatch.fnmatchcase(n, pattern)]
        return min(matched) if matched else self.ratio

    def excluded_by(self, node_names: list[str]) -> str | None:
        """The first exclude pattern that matches one of `node_names`, if any."""
        for pattern in self.exclude:
            for n in node_names:
                if fnmatch.fnmatchcase(n, pattern):
                    return f"excluded by pattern {pattern!r} (node {n})"
        return None

    def with_file(self, path: str | Path) -> "PruneConfig":
        """This config updated by a JSON file; keys are field names, `layer_ratios` a {pattern: ratio} object."""
        try:
            data = json.loads(Path(path).read_text())
        except OSError as exc:
            raise UsageError(f"cannot read config file {path}: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise UsageError(f"config file {path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
        if not isinstance(data, dict):
            raise UsageError(f"config file {path} must hold a JSON object")
        return replace(self, **_coerce(data, str(path)))


def _coerce(data: Mapping[str, Any], source: str) -> dict[str, Any]:
    known = {f.name for f in fields(PruneConfig)}
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise UsageError(f"unknown key {key!r} in {source}; known keys: {', '.join(sorted(known))}")
        if key == "layer_ratios":
            if not isinstance(value, dict):
                raise UsageError(f"'layer_ratios' in {source} must be an object of pattern: ratio")
            value = tuple((str(k), v) for k, v in value.items())
        elif key == "exclude":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise UsageError(f"'exclude' in {source} must be a list of patterns")
            value = tuple(value)
        elif key == "input_shapes":
            if not isinstance(value, dict):
                raise UsageError(f"'input_shapes' in {source} must be an object of name: [dims]")
            value = tuple((str(k), tuple(int(d) for d in v)) for k, v in value.items())
        out[key] = value
    return out


def parse_input_shape(text: str) -> tuple[str, tuple[int, ...]]:
    """Parse `NAME:1x3x224x224` (the name may itself hold colons; the last one splits)."""
    name, sep, dims = text.rpartition(":")
    if not sep or not name:
        raise UsageError(f"input shape must look like NAME:1x3x224x224, got {text!r}")
    try:
        values = tuple(int(d) for d in dims.lower().split("x"))
    except ValueError:
        raise UsageError(f"input shape must look like NAME:1x3x224x224, got {text!r}") from None
    if any(v < 1 for v in values):
        raise UsageError(f"input shape dimensions must be positive, got {text!r}")
    return name, values


def parse_layer_ratio(text: str) -> tuple[str, float]:
    """Parse `PATTERN=RATIO`."""
    pattern, sep, value = text.rpartition("=")
    if not sep or not pattern:
        raise UsageError(f"layer ratio must look like PATTERN=RATIO, got {text!r}")
    try:
        return pattern, _check_ratio(float(value), f"ratio for {pattern!r}")
    except ValueError:
        raise UsageError(f"layer ratio must look like PATTERN=RATIO, got {text!r}") from None


__all__ = ["PruneConfig", "parse_input_shape", "parse_layer_ratio"]
