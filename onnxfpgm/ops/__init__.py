"""The op-rule table: one entry per ONNX op type. Adding support for an op is adding one entry and its tests."""

from __future__ import annotations

from ..groups import Rule
from . import conv, elementwise, linear, norm, shape_values, structure

RULES: dict[str, Rule] = {}
for _family in (conv, linear, norm, elementwise, structure, shape_values):
    for _op, _rule in _family.RULES.items():
        assert _op not in RULES, f"two rules for {_op}"
        RULES[_op] = _rule

__all__ = ["RULES"]
