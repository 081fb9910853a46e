"""Sphinx configuration of the flask-sio documentation (``python3 -m sphinx -W docs OUT``)."""
from __future__ import annotations

import configparser
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

project = "flask-sio"
author = "the flask-sio developers"
copyright = "2026, the flask-sio developers"  # noqa: A001 - Sphinx's name for it
#: the package's version, from setup.cfg (its one place)
_setup = configparser.ConfigParser()
_setup.read(ROOT / "setup.cfg")
release = version = _setup["metadata"]["version"]

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
autodoc_default_options = {"members": True}
