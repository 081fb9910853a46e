"""The README's speed table quotes bench/RESULTS.md: the headline table that bench/run.py
writes there, five servers and the ratios, row for row."""
from __future__ import annotations

import re
from typing import List

from tests.helpers import ROOT

SERVERS = ("sio_core", "flask_sio", "python-socketio", "Flask-SocketIO", "Node socket.io")
RATIOS = ("flask_sio / sio_core", "sio_core / Node", "flask_sio / Node")


def _speed_table() -> List[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Speed\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ")]


def _cells(row: str) -> List[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def test_readme_speed_figures_come_from_the_bench_results() -> None:
    results = (ROOT / "bench" / "RESULTS.md").read_text()
    rows = [line for line in _speed_table() if "---" not in line]
    figures = [cell for row in rows[1:] for cell in re.findall(r"[\d,]+(?:\.\d+)?×?", row)]
    assert len(figures) >= 20
    for figure in figures:
        assert figure in results, figure


def test_readme_speed_table_is_the_results_headline() -> None:
    results = (ROOT / "bench" / "RESULTS.md").read_text()
    headline = results.split("\n## Headline", 1)[1].split("\n## ", 1)[0]
    table = _speed_table()
    assert table, "README.md's Speed section has no table"
    for row in table:
        assert row in headline.splitlines(), row
    header = _cells(table[0])
    assert header[1:] == list(SERVERS + RATIOS)
    for row in table[2:]:
        assert len(_cells(row)) == len(header), row
