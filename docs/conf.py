"""Sphinx configuration of the flask-sio documentation (``python3 -m sphinx -W docs OUT``)."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

project = "flask-sio"
author = "the flask-sio developers"
copyright = "2026, the flask-sio developers"  # noqa: A001 - Sphinx's name for it
release = "0.1.0"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]

html_theme = "furo"
html_title = "flask-sio"
exclude_patterns = ["_build", "conformance.md"]
root_doc = "index"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": False}
# importing the packages must not patch the interpreter Sphinx runs in
autodoc_mock_imports: list = []
