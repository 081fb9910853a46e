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

Numbers are written as ``JSON.stringify`` writes them (``Number.prototype.toString``):
``1`` for ``1.0``, ``10000000000000000`` for ``1e16``, ``1e-7`` and ``1e+21`` at the ends
of the range. Python and orjson write some floats otherwise (``1.0``, ``1e+16``,
``1e-05``; ``1e16``); :func:`javascript_numbers` rewrites those tokens. It costs one
search of the text when no such number is in it: a non-integral float in positional form
(``1.5``, the usual float) needs no rewrite.

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

__all__ = ["dumps", "loads", "javascript_json", "nonfinite_to_null", "escape_surrogates",
           "javascript_numbers", "number_text", "foreign_number", "rewrite_numbers"]

Dumps = Callable[[Any], Union[str, bytes]]
Loads = Callable[[str], Any]

_SURROGATE = re.compile("[\ud800-\udfff]")
# a JSON string, which the rewriting patterns below match first to skip it as a whole
_JSON_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
# a JSON string, or a non-finite constant outside strings
_STRING_OR_CONSTANT = re.compile(_JSON_STRING + r"|(-?Infinity|NaN)", re.S)

# a number token JavaScript writes otherwise: integral in positional form, or an exponent;
# one pass, the quickest test of a short text (but ~5-17 ns per character: a pattern that
# starts with a class is tried at every character)
_FOREIGN_NUMBER = re.compile(r"[0-9](?:\.0(?![0-9])|[eE])")
_ONE_PASS_LIMIT = 256
# the same two shapes for long texts, as patterns that start with a literal (scanned for
# at under 1 ns per character)
_INTEGRAL = re.compile(r"\.0(?![0-9])")
_EXPONENT = re.compile(r"e(?<=[0-9]e)")
_EXPONENT_UPPER = re.compile(r"E(?<=[0-9]E)")
# a JSON string, or a number token outside strings
_STRING_OR_FLOAT = re.compile(_JSON_STRING + r"|(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)",
                              re.S)


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


def number_text(value: float) -> str:
    """A finite float as ``JSON.stringify`` writes it (JavaScript's ``Number::toString``).

    The digits are Python's shortest round-trip ones (``repr``), the same JavaScript
    chooses; only the layout differs: positional from ``1e-7`` up to below ``1e21``,
    without a ``.0``; an exponent with its sign and no leading zeros outside that range.

    :param value: a finite float
    """
    if value == 0:
        return "0"  # -0 too
    text = repr(value)
    sign = ""
    if text[0] == "-":
        sign, text = "-", text[1:]
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    significant = digits.lstrip("0")
    # value = 0.<digits> x 10 ** point
    point = len(whole) + int(exponent or 0) - (len(digits) - len(significant))
    digits = significant.rstrip("0")
    count = len(digits)
    if count <= point <= 21:
        return sign + digits + "0" * (point - count)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    power = point - 1
    head = digits[0] + "." + digits[1:] if count > 1 else digits
    return "%s%se%s%d" % (sign, head, "+" if power >= 0 else "-", abs(power))


def _javascript_number(match: Match[str]) -> str:
    token = match.group(1)
    if token is None or ("." not in token and "e" not in token and "E" not in token):
        return match.group()
    return number_text(float(token))


def foreign_number(text: str) -> bool:
    """Whether ``text`` may hold a number token JavaScript writes otherwise (False: it
    surely holds none; True also for such characters inside a string): the quick test of
    :func:`javascript_numbers`, for callers that skip its call when it fails.

    :param text: JSON text
    """
    if len(text) <= _ONE_PASS_LIMIT:
        return _FOREIGN_NUMBER.search(text) is not None
    return bool(("." in text and _INTEGRAL.search(text)) or _EXPONENT.search(text)
                or ("E" in text and _EXPONENT_UPPER.search(text)))


def rewrite_numbers(text: str) -> str:
    """JSON text with every number token outside strings written as JavaScript writes it,
    without the quick test first (for callers that made it: see :func:`javascript_numbers`).

    :param text: JSON text holding finite numbers only
    """
    return _STRING_OR_FLOAT.sub(_javascript_number, text)


def javascript_numbers(text: str) -> str:
    """JSON text with every number token outside strings written as JavaScript writes it:
    ``text`` itself when :func:`foreign_number` finds nothing to rewrite.

    :param text: JSON text holding finite numbers only
    """
    return rewrite_numbers(text) if foreign_number(text) else text


def dumps(value: Any) -> str:
    """Compact JSON of ``value``, as ``JSON.stringify`` writes it.

    Non-finite floats become ``null``, other floats JavaScript's number text, lone
    surrogates ``\\uXXXX`` escapes; the result always encodes to UTF-8.

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
    return escape_surrogates(javascript_numbers(text))


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

    Its output (``str`` or UTF-8 ``bytes``) gets non-finite constants replaced, numbers
    written as JavaScript writes them and lone surrogates escaped; input holding
    ``NaN``/``Infinity`` outside strings is refused before it reaches ``user_loads``. What
    the back end refuses (a lone surrogate for orjson, say) goes to :func:`dumps`/
    :func:`loads`, which raise when JSON has no form for it either.

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
        return escape_surrogates(javascript_numbers(text))

    def wrapped_loads(text: str) -> Any:
        if _maybe_constant(text):
            _strict_decode(text)  # raises on a constant outside strings
        try:
            return user_loads(text)
        except ValueError:
            return _strict_decode(text)  # JSON the back end refuses, or its ValueError

    return wrapped_dumps, wrapped_loads
