"""JSON on the wire as JavaScript writes and reads it, with every JSON back end.

``JSON.stringify`` writes non-finite numbers as ``null`` and lone surrogates as
``\\uXXXX`` escapes; ``JSON.parse`` refuses ``NaN``/``Infinity`` and accepts every
escape. The back ends: the standard library (``json=json``), the default (orjson when
installed), and user modules: one returning ``str`` with the standard library's own
defaults (it writes ``NaN``), and orjson given explicitly (it returns bytes and refuses
lone surrogates).
"""
from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import math
import random
import struct
import subprocess
import uuid
from types import SimpleNamespace
from typing import Any, Callable, Dict, Tuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sio_core.server.jsonlib import json_functions
from sio_core.socketio import (
    Packet,
    PacketType,
    ProtocolError,
    decode_text,
    default_dumps,
    default_loads,
    encode,
    javascript_numbers,
)
from sio_core.socketio.jsontext import foreign_number, number_text
from tests.helpers import node_result, require_node

orjson = pytest.importorskip("orjson")

BACKENDS: Dict[str, Tuple[Callable[[Any], str], Callable[[str], Any]]] = {
    "stdlib": json_functions(json),
    "default": json_functions(None),
    "user-str": json_functions(SimpleNamespace(dumps=json.dumps, loads=json.loads)),
    "user-bytes": json_functions(orjson),
}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> Tuple[Callable[[Any], str], Callable[[str], Any]]:
    return BACKENDS[request.param]


def test_default_backend_is_orjson_with_orjson_installed() -> None:
    dumps, _ = json_functions(None)
    assert dumps is not default_dumps  # the fast path is orjson's, the rule still holds
    assert json_functions(json) == (default_dumps, default_loads)


# -- encoding ---------------------------------------------------------------------------

def test_non_finite_numbers_become_null(backend) -> None:
    dumps, loads = backend
    text = dumps([1e400, -1e400, float("nan"), 1.5, {"k": float("inf")}])
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == [None, None, None, 1.5, {"k": None}]
    assert loads(text) == [None, None, None, 1.5, {"k": None}]


def test_non_finite_in_the_compact_backends_is_written_as_javascript_does() -> None:
    for name in ("stdlib", "default", "user-bytes"):
        dumps, _ = BACKENDS[name]
        assert dumps(["bcast", 1e400]) == '["bcast",null]', name
        assert dumps(float("nan")) == "null", name


def test_constant_names_inside_strings_are_kept(backend) -> None:
    dumps, loads = backend
    value = ["NaN", "Infinity", "-Infinity", 'a"NaN', "\\", 'x\\"Infinity', float("nan"),
             {"NaN": float("-inf"), 'q"Infinity"': "NaN"}]
    text = dumps(value)
    assert json.loads(text) == ["NaN", "Infinity", "-Infinity", 'a"NaN', "\\",
                                'x\\"Infinity', None, {"NaN": None, 'q"Infinity"': "NaN"}]
    assert loads(text) == json.loads(text)


def test_lone_surrogates_are_escaped(backend) -> None:
    dumps, loads = backend
    text = dumps(["ack", "\ud83d", "a\udc00b", "é\ud800"])
    text.encode("utf-8")  # raised UnicodeEncodeError before: the flush died on it
    assert "\\ud83d" in text and "\\udc00" in text and "\\ud800" in text
    assert loads(text) == ["ack", "\ud83d", "a\udc00b", "é\ud800"]


def test_stdlib_output_matches_json_stringify_byte_for_byte() -> None:
    dumps, _ = BACKENDS["stdlib"]
    # JSON.stringify(["x","\ud83d",1/0,"é😀",{"a":[null,true,1.5]}]) in node
    assert dumps(["x", "\ud83d", float("inf"), "é😀", {"a": [None, True, 1.5]}]) == \
        '["x","\\ud83d",null,"é😀",{"a":[null,true,1.5]}]'


def test_a_surrogate_pair_in_two_code_units_means_its_character(backend) -> None:
    dumps, loads = backend
    text = dumps("\ud83d\ude00")
    text.encode("utf-8")
    assert loads(text) == "😀"
    assert json.loads(text) == "😀"


@pytest.mark.parametrize("value", [object(), {1, 2}, b"raw", [1, object()], {"k": {1}}])
def test_a_value_with_no_json_form_raises_type_error(backend, value) -> None:
    dumps, _ = backend
    with pytest.raises(TypeError):
        dumps(value)


class Colour(enum.Enum):
    RED = "red"
    SHADE = [1, 2.5]


class Perm(enum.Flag):
    R = 4
    W = 2


class Day(enum.Enum):
    FIRST = datetime.date(2026, 1, 1)


@dataclasses.dataclass
class Point:
    x: int
    y: int


# the back ends this project chooses; a module the user passes (orjson itself, flask.json)
# keeps its own choices for the types it knows
BUILTIN = ("stdlib", "default", "user-str")


@pytest.mark.parametrize("value", [
    datetime.datetime(2026, 12, 3, 10, 0, tzinfo=datetime.timezone.utc),
    datetime.datetime(2026, 12, 3, 10, 0), datetime.date(2026, 12, 3), datetime.time(10, 0),
    Point(1, 2), ["ev", {"at": datetime.date(2026, 12, 3)}], Day.FIRST,
])
def test_what_orjson_writes_and_the_standard_library_refuses_is_refused_by_both(value) -> None:
    """orjson as the default back end must not accept more than ``json=json`` does."""
    for name in BUILTIN:
        dumps, _ = BACKENDS[name]
        with pytest.raises(TypeError):
            dumps(value)


@pytest.mark.parametrize("value,text", [
    (uuid.UUID(int=0x1234), '"00000000-0000-0000-0000-000000001234"'),
    (Colour.RED, '"red"'), (Colour.SHADE, '[1,2.5]'), (Perm.R | Perm.W, '6'),
    (["ev", {"id": uuid.UUID(int=1), "c": Colour.RED, "f": float("inf")}],
     '["ev",{"id":"00000000-0000-0000-0000-000000000001","c":"red","f":null}]'),
])
def test_uuids_and_enum_members_are_written_as_orjson_writes_them(backend, value, text) -> None:
    """One plain JSON form, the same from every back end: a UUID's string, a member's value."""
    dumps, _ = backend
    assert dumps(value) == text


def test_a_cycle_raises_type_error(backend) -> None:
    dumps, _ = backend
    cycle: list = [1]
    cycle.append(cycle)
    with pytest.raises(TypeError):
        dumps(cycle)


def test_packet_encoding_uses_the_rule_by_default() -> None:
    encoded = encode(Packet(PacketType.EVENT, "/", ["bcast", 1e400, "\ud83d"], 7))
    assert encoded.text == '27["bcast",null,"\\ud83d"]'
    assert encoded.text.isascii()


# -- decoding ---------------------------------------------------------------------------

NOT_JSON = ["NaN", "Infinity", "-Infinity", "[1,NaN]", '{"a":Infinity}', '["x",-Infinity]',
            "nan", "inf", "[-NaN]", "'a'", "[1,]", "{a:1}", "01", "", "[", '"\\x41"',
            '"a" "b"', "[1 2]", "+1", ".5", "1.", '"\\u12"', "[undefined]", "\u00a0[]",
            '{"a":1,}', "[NaN ]", '["ok", NaN]']


@pytest.mark.parametrize("text", NOT_JSON)
def test_what_json_does_not_allow_is_refused(backend, text) -> None:
    _, loads = backend
    with pytest.raises(ValueError):
        loads(text)


@pytest.mark.parametrize("text, value", [
    ('"\\ud83d"', "\ud83d"),
    ('["\\udc00x","\\ud83d\\ude00"]', ["\udc00x", "😀"]),
    ('{"\\ud800":1e400}', {"\ud800": math.inf}),  # JSON.parse gives Infinity too
    ('["NaN","Infinity"]', ["NaN", "Infinity"]),
    (' [1, -0, 2.5e-3, true, null, {}] ', [1, 0, 0.0025, True, None, {}]),
    ("123456789012345678901234567890", 123456789012345678901234567890),
])
def test_what_json_allows_is_accepted(backend, text, value) -> None:
    _, loads = backend
    assert as_javascript(loads(text)) == as_javascript(value)  # a huge int: a double in JS


@pytest.mark.parametrize("name", sorted(BACKENDS))
@pytest.mark.parametrize("text", ['2["ack-echo",NaN]', '21["x",Infinity]', '2/chat,["x",-Infinity]',
                                  "2[\"x\",'y']", '0{"token":NaN}'])
def test_the_packet_decoder_reports_them_as_protocol_errors(name, text) -> None:
    _, loads = BACKENDS[name]
    with pytest.raises(ProtocolError, match="bad JSON"):
        decode_text(text, loads)


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_the_packet_decoder_accepts_lone_surrogate_escapes(name) -> None:
    _, loads = BACKENDS[name]
    packet, _ = decode_text('21["ack-echo","\\ud83d",1e400]', loads)
    assert packet.data == ["ack-echo", "\ud83d", math.inf]
    assert packet.id == 1


# -- property: any JSON value a JavaScript client can produce round-trips -----------------

# a JavaScript string: any sequence of UTF-16 code units (lone surrogates made common)
CODE_UNIT = st.one_of(st.integers(0xD800, 0xDFFF), st.integers(0x20, 0x7E),
                      st.integers(0, 0xFFFF))
JS_STRING = st.lists(CODE_UNIT, max_size=10).map(lambda units: "".join(map(chr, units)))
JS_NUMBER = st.integers(-(2 ** 53), 2 ** 53) | st.floats(allow_nan=False, allow_infinity=False)
JS_VALUE = st.recursive(
    st.none() | st.booleans() | JS_NUMBER | JS_STRING,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(JS_STRING, children, max_size=4),
    max_leaves=16,
)


def as_javascript(value: Any) -> Any:
    """``value`` as JavaScript sees it: strings as UTF-16 code units, numbers as doubles."""
    if isinstance(value, str):
        return ("s", value.encode("utf-16-le", "surrogatepass"))
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return ("n", float(value))
    if isinstance(value, list):
        return [as_javascript(item) for item in value]
    return {as_javascript(key): as_javascript(item) for key, item in value.items()}


@given(JS_VALUE)
def test_any_javascript_value_round_trips_through_every_backend_pair(value) -> None:
    expected = as_javascript(value)
    for name, (dumps, _) in BACKENDS.items():
        text = dumps(value)
        text.encode("utf-8")  # always valid UTF-8
        for other, (_, loads) in BACKENDS.items():
            assert as_javascript(loads(text)) == expected, (name, other, text)


@given(JS_VALUE)
def test_any_javascript_value_round_trips_in_a_packet(value) -> None:
    for name, (dumps, loads) in BACKENDS.items():
        encoded = encode(Packet(PacketType.EVENT, "/", ["ev", value], 3), dumps)
        encoded.text.encode("utf-8")
        packet, count = decode_text(encoded.text, loads)
        assert count == 0
        assert as_javascript(packet.data) == as_javascript(["ev", value]), name


@given(st.lists(st.floats() | st.integers(-(2 ** 53), 2 ** 53), max_size=8))
def test_any_double_is_sent_as_json_stringify_sends_it(numbers) -> None:
    expected = [n if isinstance(n, int) or math.isfinite(n) else None for n in numbers]
    for name, (dumps, loads) in BACKENDS.items():
        text = dumps(numbers)  # a large integral double is written as digits, as in node
        parsed = json.loads(text, parse_constant=lambda c: pytest.fail(c))
        assert as_javascript(parsed) == as_javascript(expected), name
        assert as_javascript(loads(text)) == as_javascript(expected), name


# strings made of the pieces that could confuse the constant rewriting, and non-finite floats
TRICKY_STRING = st.lists(st.sampled_from(['NaN', 'Infinity', '-', '"', '\\', '\\"', ':', ',',
                                          '\n', '[', '{', '\ud83d', 'x']),
                         max_size=8).map("".join)
TRICKY = st.recursive(
    st.sampled_from([math.inf, -math.inf, math.nan, 1.5, None]) | TRICKY_STRING,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(TRICKY_STRING, children, max_size=3),
    max_leaves=12,
)


def finite_or_null(value: Any) -> Any:
    """What ``JSON.parse(JSON.stringify(value))`` gives for these values."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [finite_or_null(item) for item in value]
    if isinstance(value, dict):
        return {key: finite_or_null(item) for key, item in value.items()}
    return value


@given(TRICKY)
def test_constants_are_rewritten_outside_strings_only(value) -> None:
    expected = as_javascript(finite_or_null(value))
    for name, (dumps, loads) in BACKENDS.items():
        text = dumps(value)
        assert as_javascript(loads(text)) == expected, (name, text)
        assert as_javascript(json.loads(text, parse_constant=pytest.fail)) == expected, name


# -- numbers as JSON.stringify writes them ------------------------------------------------

EDGE_DOUBLES = [0.0, -0.0, 1.0, -1.0, 100.0, 0.1, 0.5, 1.5, 123.456, 1e15, 1e16, 1e20, 1e21,
                1e22, 1e-5, 1e-6, 1e-7, 1e-8, 1.5e300, 2.0 ** 53, 2.0 ** 53 + 2, 5e-324,
                1.7976931348623157e308, 123456789012345680000.0, 1.2345e-7, 9.999999e20,
                -1e-7, 0.000001234, 1234567.0, 1e100]


def random_doubles(count: int) -> list:
    """Finite doubles from random bit patterns (every exponent as likely), and nearby
    decimal ones (random digits at every power of ten)."""
    rng = random.Random(20261203)
    found: list = []
    while len(found) < count:
        value = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        if math.isfinite(value):
            found.append(value)
        found.append(float("%de%d" % (rng.randrange(1, 10 ** rng.randrange(1, 17)),
                                      rng.randrange(-330, 300))))
    return [value for value in found if math.isfinite(value)]


STRINGIFY = """
const bits = require('fs').readFileSync(0, 'utf8').trim().split(' ');
const view = new DataView(new ArrayBuffer(8));
const doubles = bits.map((hex) => {
  view.setBigUint64(0, BigInt('0x' + hex));
  return view.getFloat64(0);
});
const one = doubles.map((d) => JSON.stringify(d));
console.log(JSON.stringify({one, all: JSON.stringify(doubles)}));
"""


def test_every_double_is_written_as_node_writes_it_with_every_backend() -> None:
    require_node()
    doubles = EDGE_DOUBLES + [-value for value in EDGE_DOUBLES] + random_doubles(3000)
    bits = " ".join(struct.pack(">d", value).hex() for value in doubles)
    proc = subprocess.run(["node", "-e", STRINGIFY], input=bits.encode(), capture_output=True,
                          timeout=60)
    expected = node_result("JSON.stringify", proc.returncode, proc.stdout, proc.stderr)
    mismatches = [(value, ours, theirs) for value, ours, theirs
                  in zip(doubles, map(number_text, doubles), expected["one"]) if ours != theirs]
    assert mismatches == []
    for name in ("stdlib", "default", "user-bytes"):
        assert BACKENDS[name][0](doubles) == expected["all"], name


@pytest.mark.parametrize("value, text", [
    (1.0, "1"), (-0.0, "0"), (1e16, "10000000000000000"), (1e21, "1e+21"), (1e-5, "0.00001"),
    (1e-7, "1e-7"), (1.5e300, "1.5e+300"), (5e-324, "5e-324"), (0.1, "0.1"), (-2.5e-8, "-2.5e-8"),
])
def test_number_text_in_javascripts_layout(value, text) -> None:  # checked against node
    assert number_text(value) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_number_text_reads_back_as_the_same_double(value) -> None:
    assert float(number_text(value)) == value
    assert float(json.loads(number_text(value))) == value  # an int for integral ones


def test_numbers_inside_strings_are_kept(backend) -> None:
    dumps, loads = backend
    value = ["1.0", "1e16", 'x"2.0', "\\", "3e-05\\", {"4.0": 4.0, "5e+16": [5e16, "6.0"]}]
    text = dumps(value)
    assert loads(text) == value
    assert "4.0" in text and '"4.0":4' in text.replace(" ", "")
    assert "50000000000000000" in text
    assert javascript_numbers('["1.0",1.0,"1e5"]') == '["1.0",1,"1e5"]'


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False) | TRICKY_STRING
                | st.sampled_from(["1.0", "2e5", '7.0"', "8e-05\\"]), max_size=8))
def test_number_rewriting_never_touches_strings(value) -> None:
    for name, (dumps, loads) in BACKENDS.items():
        assert as_javascript(loads(dumps(value))) == as_javascript(value), name


@pytest.mark.parametrize("pad", [0, 300, 70_000], ids=["short", "long", "64k"])
def test_numbers_are_rewritten_in_short_and_long_texts(backend, pad) -> None:
    dumps, _ = backend
    text = dumps(["x" * pad, 1.0, -0.0, 1e16, 1e21, 1e-5, 1e-7, 0.5, 7, "2.0e5"]).replace(" ", "")
    assert text == '["%s",1,0,10000000000000000,1e+21,0.00001,1e-7,0.5,7,"2.0e5"]' % ("x" * pad)


@pytest.mark.parametrize("pad", [0, 300], ids=["short", "long"])
def test_a_module_writing_capital_exponents_is_rewritten(pad) -> None:
    shouting = SimpleNamespace(dumps=lambda value: json.dumps(value).upper().replace("X", "x"),
                               loads=json.loads)
    dumps, _ = json_functions(shouting)
    assert dumps(["x" * pad, 1e16, 1e-7]) == '["%s", 10000000000000000, 1e-7]' % ("x" * pad)


@pytest.mark.parametrize("text, found", [
    ('["echo",{"text":"hello","n":42}]', False), ('[1.5,0.25,100]', False), ('[1.0]', True),
    ('[1e+16]', True), ('[1E16]', True), ('["hello"]', False),
])
def test_foreign_number_finds_the_two_shapes_in_short_and_long_texts(text, found) -> None:
    long = text[:-1] + ',"' + "y" * 300 + '"]'
    assert foreign_number(text) is found
    assert foreign_number(long) is found
