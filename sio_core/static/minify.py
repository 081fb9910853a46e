"""Build socket.io.min.js and its source map from socket.io.js.

Run ``python sio_core/static/minify.py`` after editing socket.io.js (a test checks that the
committed files match a fresh build).

A deliberately small minifier that cannot change what the code means: it drops comments
(keeping the ``/*!`` licence header), indentation, blank lines and the spaces that nothing
needs, and it keeps every line break, so automatic semicolon insertion sees the same
program. Each output line comes from one input line, so the source map (version 3) has one
segment per line. Template literals are refused rather than half-understood.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Iterator, List, NamedTuple, Tuple

__all__ = ["minify", "source_map", "build"]

HERE = Path(__file__).resolve().parent
SOURCE = "socket.io.js"
TARGET = "socket.io.min.js"
MAP = "socket.io.min.js.map"

_WORD = re.compile(r"[A-Za-z0-9_$]")
# after these, a "/" starts a regular expression literal rather than a division
_REGEX_AFTER_PUNCT = set("(,=:[!&|?{};+-*%<>~^")
_REGEX_AFTER_WORDS = {"return", "typeof", "case", "do", "else", "in", "instanceof", "new",
                      "delete", "void", "throw", "yield", "await"}


class Token(NamedTuple):
    """A piece of source: ``kind`` is code, string, regex, comment, space or newline."""

    kind: str
    text: str
    line: int
    col: int


class MinifyError(ValueError):
    """The source uses something this minifier does not handle."""


def tokenize(source: str) -> Iterator[Token]:
    """Split JavaScript into tokens well enough to know what is code and what is not."""
    i, line, col = 0, 0, 0
    last = ""  # the last significant code token, to tell a regex from a division
    n = len(source)

    def advance(text: str) -> None:
        nonlocal line, col
        newlines = text.count("\n")
        if newlines:
            line += newlines
            col = len(text) - text.rfind("\n") - 1
        else:
            col += len(text)

    while i < n:
        char = source[i]
        start = i
        if char == "\n":
            kind, i = "newline", i + 1
        elif char in " \t\r":
            while i < n and source[i] in " \t\r":
                i += 1
            kind = "space"
        elif source.startswith("//", i):
            end = source.find("\n", i)
            i = n if end < 0 else end
            kind = "comment"
        elif source.startswith("/*", i):
            end = source.find("*/", i + 2)
            if end < 0:
                raise MinifyError("unterminated comment at line %d" % (line + 1))
            i, kind = end + 2, "comment"
        elif char in "'\"":
            i += 1
            while i < n and source[i] != char:
                if source[i] == "\n":
                    raise MinifyError("unterminated string at line %d" % (line + 1))
                i += 2 if source[i] == "\\" else 1
            i, kind = i + 1, "string"
        elif char == "`":
            raise MinifyError("template literal at line %d: not supported" % (line + 1))
        elif char == "/" and (last == "" or last in _REGEX_AFTER_PUNCT
                              or last in _REGEX_AFTER_WORDS):
            i += 1
            in_class = False
            while i < n and (source[i] != "/" or in_class):
                if source[i] == "\n":
                    raise MinifyError("unterminated regex at line %d" % (line + 1))
                if source[i] == "\\":
                    i += 1
                elif source[i] == "[":
                    in_class = True
                elif source[i] == "]":
                    in_class = False
                i += 1
            i += 1
            while i < n and _WORD.match(source[i]):
                i += 1
            kind = "regex"
        elif _WORD.match(char):
            while i < n and _WORD.match(source[i]):
                i += 1
            kind = "code"
        else:
            i, kind = i + 1, "code"
        text = source[start:i]
        yield Token(kind, text, line, col)
        if kind in ("code", "string", "regex"):
            last = text
        advance(text)


def _needs_space(left: str, right: str) -> bool:
    """Whether two tokens that had whitespace between them must keep one space."""
    a, b = left[-1], right[0]
    if _WORD.match(a) and _WORD.match(b):
        return True
    if a in "+-" and b in "+-":  # a + +b, a - -b
        return True
    if a == "/" and b in "/*":  # a / /re/ must not become a comment
        return True
    if (a, b) in (("<", "!"), ("-", ">")):  # nor an HTML-like comment: <!-- and -->
        return True
    return a.isdigit() and b == "."  # 1 .toString()


Segment = Tuple[int, int, int]  # generated column, original line, original column
Line = Tuple[str, List[Segment]]

# a line break after one of these, or before one of those, is never significant: joining
# the lines cannot start or end a statement nor touch a restricted production (return,
# break, continue, throw, postfix ++/--)
_JOIN_AFTER = set("{([,;")
_JOIN_BEFORE = set("})]")


def minify(source: str) -> List[Line]:
    """The minified lines, each with its source-map segments."""
    lines: List[Line] = []
    current: List[str] = []
    segments: List[Segment] = []
    spaced = False
    licence = False  # the last line is part of the /*! header

    def end_line() -> None:
        nonlocal current, segments, licence
        if not current:
            return
        text = "".join(current)
        if lines and not licence and (lines[-1][0][-1] in _JOIN_AFTER
                                      or text[0] in _JOIN_BEFORE):
            previous, previous_segments = lines[-1]
            shift = len(previous)
            lines[-1] = (previous + text, previous_segments
                         + [(col + shift, line, ocol) for col, line, ocol in segments])
        else:
            lines.append((text, segments))
        licence = False
        current, segments = [], []

    for token in tokenize(source):
        if token.kind == "newline":
            end_line()
            spaced = False
        elif token.kind == "space":
            spaced = True
        elif token.kind == "comment":
            if token.text.startswith("/*!"):
                end_line()
                for offset, text in enumerate(token.text.split("\n")):
                    indent = len(text) - len(text.lstrip()) if offset else token.col
                    lines.append((text.strip(), [(0, token.line + offset, indent)]))
                licence = True
            spaced = True
        else:
            if not current:
                segments.append((0, token.line, token.col))
            elif spaced and _needs_space(current[-1], token.text):
                current.append(" ")
            current.append(token.text)
            spaced = False
    end_line()
    return lines


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _vlq(value: int) -> str:
    value = (-value << 1) | 1 if value < 0 else value << 1
    out = ""
    while True:
        digit, value = value & 31, value >> 5
        out += _B64[digit | (32 if value else 0)]
        if not value:
            return out


def source_map(lines: List[Line], file: str = TARGET, source: str = SOURCE) -> str:
    """A version 3 source map of ``lines`` (one segment where each original line starts)."""
    encoded = []
    prev_line = prev_col = 0
    for _, segments in lines:
        parts = []
        prev_gen = 0
        for gen, line, col in segments:
            parts.append(_vlq(gen - prev_gen) + "A" + _vlq(line - prev_line)
                         + _vlq(col - prev_col))
            prev_gen, prev_line, prev_col = gen, line, col
        encoded.append(",".join(parts))
    return json.dumps({"version": 3, "file": file, "sources": [source], "names": [],
                       "mappings": ";".join(encoded)}, separators=(",", ":")) + "\n"


def build(directory: Path = HERE) -> Tuple[str, str]:
    """The minified file (ending with its sourceMappingURL) and its map."""
    lines = minify((directory / SOURCE).read_text(encoding="utf-8"))
    code = "\n".join(text for text, _ in lines) + "\n//# sourceMappingURL=%s\n" % MAP
    return code, source_map(lines)


def main() -> int:
    code, mapping = build()
    (HERE / TARGET).write_text(code, encoding="utf-8")
    (HERE / MAP).write_text(mapping, encoding="utf-8")
    sys.stdout.write("%s: %d bytes, %s: %d bytes\n"
                     % (TARGET, len(code.encode()), MAP, len(mapping)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
