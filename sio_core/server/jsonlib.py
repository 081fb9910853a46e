"""Choosing the JSON back end: orjson when installed, the standard library otherwise.

Whatever the back end, the wire follows JavaScript's rules (see
``sio_core.socketio.jsontext``): non-finite numbers are sent as ``null``, other numbers as
``JSON.stringify`` writes them (``1``, not ``1.0``), lone surrogates as ``\\uXXXX``
escapes, and ``NaN``/``Infinity`` in input are refused.

orjson, as the default back end, only makes things faster: it accepts and writes what the
standard library does. It would write ``datetime``/``date``/``time`` values and
dataclasses, which the standard library refuses; its passthrough options make it refuse
them too (they cost nothing: the check is on types orjson looks at anyway). ``uuid.UUID``
and ``enum.Enum`` members, which orjson writes natively and has no such option for, are
written the same way by the standard rule (see ``jsontext``).
"""
from __future__ import annotations

import json as stdjson
from typing import Any, Callable, Tuple

from ..socketio import default_dumps, default_loads, javascript_json, refuses_binary
from ..socketio.jsontext import foreign_number, rewrite_numbers

__all__ = ["json_functions"]

Dumps = Callable[[Any], str]
Loads = Callable[[str], Any]


def json_functions(spec: Any = None) -> Tuple[Dumps, Loads]:
    """``(dumps, loads)`` for ``spec``: a module/object with ``dumps``/``loads``, or None.

    With None, orjson is used when importable (falling back to the standard library for
    what it refuses: lone surrogates, non-string keys, huge integers), else ``json``.
    The standard library's ``json`` module as ``spec`` means the standard back end.

    :param spec: the JSON module to use, or None
    """
    if spec is stdjson:
        return default_dumps, default_loads
    if spec is not None:
        return javascript_json(spec.dumps, spec.loads)
    try:
        import orjson
    except ImportError:
        return default_dumps, default_loads
    fast_dumps, fast_loads = orjson.dumps, orjson.loads
    refuse_as_stdlib_does = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS

    def orjson_dumps(value: Any) -> str:
        try:  # non-finite floats: null already
            text = fast_dumps(value, None, refuse_as_stdlib_does).decode("utf-8")
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            return default_dumps(value)
        # javascript_numbers(text), without its call when there is nothing to rewrite
        return rewrite_numbers(text) if foreign_number(text) else text

    def orjson_loads(text: str) -> Any:
        try:
            return fast_loads(text)
        except ValueError:  # a lone-surrogate escape, a number beyond a double...
            return default_loads(text)  # ...or truly malformed: its ValueError then

    return refuses_binary(orjson_dumps), orjson_loads
