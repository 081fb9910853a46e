"""JSON text as JavaScript writes and reads it: the rules every JSON back end follows.

``JSON.stringify`` turns non-finite numbers into ``null`` and escapes lone surrogates
(``\\ud83d``); ``JSON.parse`` refuses ``NaN`` and ``Infinity`` and accepts any ``\\uXXXX``
escape. Python's ``json`` does neither by default (it writes ``NaN``/``Infinity``, reads
them back, and puts lone surrogates raw into text that then cannot become UTF-8), and
orjson refuses lone surrogates both ways. :func:`dumps` and :func:`loads` are the
standard-library versions of the rule; :func:`javascript_json` wraps any other pair.

The common case stays on the fast path: the standard encoder runs with
``allow_nan=False`` (no cost until a non-finite number appears) and its output is only
checked for surrogates when it is not pure ASCII (an attempted UTF-8 encoding, faster
than a search).

Two kinds of value that ``json`` refuses have one plain JSON form, the one orjson writes
natively: a ``uuid.UUID`` is written as its string (``str(uuid)``), an ``enum.Enum``
member as its value. Every back end writes them so (orjson, the default back end when
installed, must accept exactly what the standard library accepts). ``datetime`` values
and dataclasses stay refused: JavaScript's own form of a date (``Date.toJSON``) is not
``isoformat()``, and an object's fields are for the application to choose.
"""
from __future__ import annotations

import enum
import json
import re
import uuid
from typing import Any, Callable, Match, Tuple, Union

__all__ = ["dumps", "loads", "javascript_json", "nonfinite_to_null", "escape_surrogates"]

Dumps = Callable[[Any], Union[str, bytes]]
Loads = Callable[[str], Any]

_SURROGATE = re.compile("[\ud800-\udfff]")
# a JSON string (skipped as a whole), or a non-finite constant outside strings
_STRING_OR_CONSTANT = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|(-?Infinity|NaN)', re.S)


def _plain_form(value: Any) -> Any:
    """The JSON form of a UUID (its string) or an Enum member (its value), as orjson's."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError("Object of type %s is not JSON serializable" % type(value).__name__)


_strict_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False,
                                  allow_nan=False, default=_plain_form).encode
_lenient_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False,
                                   default=_plain_form).encode


def _refuse_constant(name: str) -> Any:
    raise ValueError("%s is not valid JSON" % name)


_strict_decode = json.JSONDecoder(parse_constant=_refuse_constant).decode


def _escape(match: Match[str]) -> str:
    return "\\u%04x" % ord(match.group())


def escape_surrogates(text: str) -> str:
    """``text`` with every surrogate code unit written as a ``\\uXXXX`` escape.

    Only valid on JSON text: outside strings, JSON is ASCII, so every surrogate is
    inside a string, where the escape means the same code unit to ``JSON.parse``.

    :param text: JSON text
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")  # faster than searching for surrogates
    except UnicodeEncodeError:
        return _SURROGATE.sub(_escape, text)
    return text


def _constant_to_null(match: Match[str]) -> str:
    return "null" if match.group(1) else match.group()


def nonfinite_to_null(text: str) -> str:
    """JSON text with the ``NaN``/``Infinity``/``-Infinity`` tokens outside strings as ``null``.

    :param text: JSON text from an encoder that writes those tokens
    """
    return _STRING_OR_CONSTANT.sub(_constant_to_null, text)


def dumps(value: Any) -> str:
    """Compact JSON of ``value``, as ``JSON.stringify`` writes it.

    Non-finite floats become ``null``, lone surrogates ``\\uXXXX`` escapes; the result
    always encodes to UTF-8.

    :param value: the value
    :raises TypeError: when ``value`` has no JSON form (an unknown object, a cycle)
    """
    try:
        text = _strict_encode(value)
    except ValueError:  # a non-finite float, or a cycle
        try:
            text = nonfinite_to_null(_lenient_encode(value))
        except ValueError as exc:
            raise TypeError("cannot encode as JSON: %s" % exc) from None
    return escape_surrogates(text)


def loads(text: str) -> Any:
    """Parse JSON text as ``JSON.parse`` does.

    :param text: the JSON text
    :raises ValueError: on anything JSON does not allow, ``NaN`` and ``Infinity`` included
    """
    return _strict_decode(text)


def _maybe_constant(text: str) -> bool:
    return "NaN" in text or "Infinity" in text


def javascript_json(user_dumps: Dumps, user_loads: Loads) -> Tuple[Callable[[Any], str], Loads]:
    """Wrap another JSON back end so that it follows the same rules.

    Its output (``str`` or UTF-8 ``bytes``) gets non-finite constants replaced and lone
    surrogates escaped; input holding ``NaN``/``Infinity`` outside strings is refused
    before it reaches ``user_loads``. What the back end refuses (a lone surrogate for
    orjson, say) goes to :func:`dumps`/:func:`loads`, which raise when JSON has no form
    for it either.

    :param user_dumps: the back end's encoder
    :param user_loads: the back end's decoder
    """

    def wrapped_dumps(value: Any) -> str:
        try:
            out = user_dumps(value)
        except (TypeError, ValueError):
            return dumps(value)
        text = out.decode("utf-8") if isinstance(out, (bytes, bytearray)) else out
        if _maybe_constant(text):
            text = nonfinite_to_null(text)
        return escape_surrogates(text)

    def wrapped_loads(text: str) -> Any:
        if _maybe_constant(text):
            _strict_decode(text)  # raises on a constant outside strings
        try:
            return user_loads(text)
        except ValueError:
            return _strict_decode(text)  # JSON the back end refuses, or its ValueError

    return wrapped_dumps, wrapped_loads
