"""Choosing the JSON encoder: orjson when installed, the standard library otherwise."""
from __future__ import annotations

import json as stdjson
from typing import Any, Callable, Tuple

from ..socketio import default_dumps, default_loads

__all__ = ["json_functions"]

Dumps = Callable[[Any], str]
Loads = Callable[[str], Any]


def json_functions(spec: Any = None) -> Tuple[Dumps, Loads]:
    """``(dumps, loads)`` for ``spec``: a module/object with ``dumps``/``loads``, or None.

    With None, orjson is used when importable (falling back to the standard
    library for values it refuses, like non-string keys), else ``json``.
    """
    if spec is not None:
        user_dumps, user_loads = spec.dumps, spec.loads

        def dumps(value: Any) -> str:
            out = user_dumps(value)
            return out.decode("utf-8") if isinstance(out, (bytes, bytearray)) else out

        return dumps, user_loads
    try:
        import orjson
    except ImportError:
        return default_dumps, default_loads
    fast_dumps, fast_loads = orjson.dumps, orjson.loads
    err = orjson.JSONEncodeError

    def orjson_dumps(value: Any) -> str:
        try:
            return fast_dumps(value).decode("utf-8")
        except (err, TypeError):
            return default_dumps(value)

    def orjson_loads(text: str) -> Any:
        try:
            return fast_loads(text)
        except ValueError:
            return stdjson.loads(text)  # raises the standard ValueError with its message

    return orjson_dumps, orjson_loads
