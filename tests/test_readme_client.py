"""The README's "A Python client" script runs as written against the conformance app."""
from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.helpers import ROOT


def readme_client_script() -> str:
    """The Python code block of the README section ``## A Python client``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## A Python client\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "expected one python block in the section"
    return blocks[0]


def test_the_readme_client_script_talks_to_the_conformance_app(start_example) -> None:
    script = readme_client_script()
    assert script.count("http://127.0.0.1:5000") == 1
    server = start_example("conformance_app.py")
    proc = subprocess.run(
        [sys.executable, "-c", script.replace("http://127.0.0.1:5000", server.url)],
        cwd=str(ROOT), capture_output=True, timeout=30,
        env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode() == "server answered ('hello', b'bytes too')\n"
