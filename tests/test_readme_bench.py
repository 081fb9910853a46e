"""The README's speed table quotes bench/RESULTS.md: every figure in it must be there."""
from __future__ import annotations

import re

from tests.helpers import ROOT


def test_readme_speed_figures_come_from_the_bench_results() -> None:
    readme = (ROOT / "README.md").read_text()
    results = (ROOT / "bench" / "RESULTS.md").read_text()
    section = readme.split("## Speed", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    figures = [cell for row in rows[1:] for cell in re.findall(r"[\d,]+(?:\.\d+)?×?", row)]
    assert len(figures) >= 20
    for figure in figures:
        assert figure in results, figure
