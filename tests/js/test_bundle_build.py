"""The minified bundle and its source map: built from socket.io.js by sio_core/static/minify.py,
committed, and correct."""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from typing import Any, List, Tuple

import pytest

from tests.conftest import ROOT

STATIC = ROOT / "sio_core" / "static"


def load_minify() -> Any:
    spec = importlib.util.spec_from_file_location("minify", STATIC / "minify.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


minify = load_minify()

_B64 = {c: i for i, c in enumerate(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


def decode_vlq(segment: str) -> List[int]:
    values, value, shift = [], 0, 0
    for char in segment:
        digit = _B64[char]
        value += (digit & 31) << shift
        if digit & 32:
            shift += 5
        else:
            values.append(-(value >> 1) if value & 1 else value >> 1)
            value, shift = 0, 0
    return values


def decode_mappings(mappings: str) -> List[List[Tuple[int, int, int]]]:
    """Per generated line: (generated column, original line, original column)."""
    lines = []
    line = col = 0
    for text in mappings.split(";"):
        gen = 0
        segments = []
        for segment in filter(None, text.split(",")):
            values = decode_vlq(segment)
            assert len(values) == 4
            assert values[1] == 0  # one source
            gen += values[0]
            line += values[2]
            col += values[3]
            segments.append((gen, line, col))
        lines.append(segments)
    return lines


def test_committed_files_match_a_fresh_build() -> None:
    code, mapping = minify.build()
    assert (STATIC / "socket.io.min.js").read_text(encoding="utf-8") == code, \
        "run: python sio_core/static/minify.py"
    assert (STATIC / "socket.io.min.js.map").read_text(encoding="utf-8") == mapping


def test_source_map_points_at_the_original_code() -> None:
    mapping = json.loads((STATIC / "socket.io.min.js.map").read_text())
    assert mapping["version"] == 3
    assert mapping["sources"] == ["socket.io.js"]
    original = (STATIC / "socket.io.js").read_text().split("\n")
    generated = (STATIC / "socket.io.min.js").read_text().split("\n")
    decoded = decode_mappings(mapping["mappings"])
    assert len(decoded) == len(generated) - 2  # not the sourceMappingURL line nor the end
    checked = 0
    for text, segments in zip(generated, decoded):
        assert segments != []
        bounds = [gen for gen, _, _ in segments[1:]] + [len(text)]
        for (gen, line, col), end in zip(segments, bounds):
            piece = re.sub(r"\s", "", text[gen:end])
            source = re.sub(r"\s", "", original[line][col:])
            assert source.startswith(piece), (line + 1, piece, source)
            checked += 1
    code_lines = [line for line in original if line.strip() and not line.strip().startswith(
        ("//", "*", "/*"))]
    assert checked >= len(code_lines) * 0.95  # nearly every code line is mapped


def test_minifier_keeps_what_matters() -> None:
    source = ("var a = 1 + +b, e = a - -b; // c\n"
              "var re = /\\/\\/[/]x/g, d = a / /re/.source.length, f = x < !y;\n"
              "/* gone */ return 'it\\'s' + \"a  b\"\n"
              "/*! kept */\n"
              "if (x) {\n  y();\n}\n"
              "z()\n")
    lines = minify.minify(source)
    first = "var a=1+ +b,e=a- -b;"
    second = "var re=/\\/\\/[/]x/g,d=a/ /re/.source.length,f=x< !y;"
    assert [text for text, _ in lines] == [
        first + second + "return'it\\'s'+\"a  b\"",
        "/*! kept */",
        "if(x){y();}",
        "z()",
    ]
    # one segment per original line, at the column where its code starts
    assert lines[0][1] == [(0, 0, 0), (len(first), 1, 0), (len(first + second), 2, 11)]
    assert lines[2][1] == [(0, 4, 0), (6, 5, 2), (10, 6, 0)]
    with pytest.raises(minify.MinifyError):
        minify.minify("var t = `template`;\n")


@pytest.mark.interop
@pytest.mark.parametrize("name", ["socket.io.js", "socket.io.min.js"])
def test_bundle_parses_and_exports_io(name: str) -> None:
    if shutil.which("node") is None:
        pytest.fail("node is not installed")
    script = ("const io = require(%s); if (typeof io !== 'function' || io.protocol !== 5 "
              "|| io.connect !== io) process.exit(1);" % json.dumps(str(STATIC / name)))
    proc = subprocess.run(["node", "-e", script], capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr.decode()
