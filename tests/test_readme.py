"""The README's op table lists every op of the rule table."""

import re
from pathlib import Path

from onnxfpgm.ops import RULES

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_op_rule_is_in_the_readme_table():
    section = README.split("## What can be pruned", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"\b[A-Z][A-Za-z]+\b", section))
    listed |= {f"Reduce{m}" for m in re.findall(r"ReduceMean/Max/Min/Sum/L1/L2/Prod/LogSumExp/SumSquare", section)
               and ["Mean", "Max", "Min", "Sum", "L1", "L2", "Prod", "LogSumExp", "SumSquare"]}
    missing = sorted(op for op in RULES if op not in listed)
    assert not missing, f"ops with a rule but not in the README table: {missing}"
