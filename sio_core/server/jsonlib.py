"""Choosing the JSON back end: orjson when installed, the standard library otherwise.

Whatever the back end, the wire follows JavaScript's rules (see
``sio_core.socketio.jsontext``): non-finite numbers are sent as ``null``, lone surrogates
as ``\\uXXXX`` escapes, and ``NaN``/``Infinity`` in input are refused.
"""
from __future__ import annotations

import json as stdjson
from typing import Any, Callable, Tuple

from ..socketio import default_dumps, default_loads, javascript_json

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

    def orjson_dumps(value: Any) -> str:
        try:
            return fast_dumps(value).decode("utf-8")  # non-finite floats: null already
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            return default_dumps(value)

    def orjson_loads(text: str) -> Any:
        try:
            return fast_loads(text)
        except ValueError:  # a lone-surrogate escape, a number beyond a double...
            return default_loads(text)  # ...or truly malformed: its ValueError then

    return orjson_dumps, orjson_loads
