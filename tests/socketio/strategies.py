"""Hypothesis strategies and helpers shared by the Socket.IO layer's tests."""
from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from sio_core.socketio import Packet, PacketType
from sio_core.socketio.jsontext import number_text

# text with astral characters made frequent, on top of whatever st.text() draws
TEXT = st.text(st.characters() | st.characters(min_codepoint=0x10000), max_size=20)
# dict keys: anything but the placeholder marker (a user dict shaped exactly like a placeholder
# is ambiguous in the protocol itself, in the reference implementation too)
KEYS = TEXT.filter(lambda key: key != "_placeholder")

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2 ** 63), max_value=2 ** 63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
BYTES = st.binary(max_size=32)
BYTES_LIKE = st.one_of(BYTES, BYTES.map(bytearray), BYTES.map(memoryview))


def json_values(leaves: st.SearchStrategy) -> st.SearchStrategy:
    """JSON-like values (lists and dicts) built over ``leaves``."""
    return st.recursive(
        leaves,
        lambda children: st.lists(children, max_size=4)
        | st.dictionaries(KEYS, children, max_size=4),
        max_leaves=12,
    )


def values_with_tuples(leaves: st.SearchStrategy) -> st.SearchStrategy:
    """Like :func:`json_values` but with tuples as well as lists."""
    return st.recursive(
        leaves,
        lambda children: st.lists(children, max_size=4)
        | st.lists(children, max_size=4).map(tuple)
        | st.dictionaries(KEYS, children, max_size=4),
        max_leaves=12,
    )


# JSON values with bytes (and only bytes) as binary leaves: what a decoder gives back
PLAIN_WITH_BYTES = json_values(JSON_SCALARS | BYTES)
# values an application may hand to the encoder: bytes-likes, tuples
ANY_WITH_BINARY = values_with_tuples(JSON_SCALARS | BYTES_LIKE)

# "/" or "/..." without a comma (the comma ends the namespace on the wire)
NAMESPACES = st.one_of(
    st.just("/"),
    TEXT.filter(lambda s: "," not in s).map(lambda s: "/" + s),
)
ACK_IDS = st.integers(min_value=0, max_value=10 ** 15 - 1)


def normalise(value: Any) -> Any:
    """What a value becomes when split and joined: bytes-likes as bytes, tuples as lists."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (list, tuple)):
        return [normalise(item) for item in value]
    if isinstance(value, dict):
        return {key: normalise(item) for key, item in value.items()}
    return value


def on_the_wire(value: Any) -> Any:
    """What a value becomes through a packet: :func:`normalise`'s changes, and floats as
    ``JSON.stringify``'s text of them reads back (an int when it has no fraction)."""
    if isinstance(value, float):
        return json.loads(number_text(value))
    if isinstance(value, (list, tuple)):
        return [on_the_wire(item) for item in value]
    if isinstance(value, dict):
        return {key: on_the_wire(item) for key, item in value.items()}
    return normalise(value)


def shape(value: Any) -> Any:
    """``value`` with each container and binary value tagged by its exact type, so that an
    equality also tells bytes from bytearray and lists from tuples (``b"a" == bytearray(b"a")``
    and ``[1] == (1,)`` are not enough)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return (type(value).__name__, bytes(value))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [shape(item) for item in value])
    if isinstance(value, dict):
        return ("dict", {key: shape(item) for key, item in value.items()})
    return (type(value).__name__, value)


def count_binary(value: Any) -> int:
    """How many binary leaves ``value`` holds."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return 1
    if isinstance(value, (list, tuple)):
        return sum(count_binary(item) for item in value)
    if isinstance(value, dict):
        return sum(count_binary(item) for item in value.values())
    return 0


@st.composite
def event_or_ack_packets(draw: st.DrawFn) -> Packet:
    """EVENT / ACK packets with bytes anywhere in their arguments (never in the event name)."""
    namespace = draw(NAMESPACES)
    args = draw(st.lists(PLAIN_WITH_BYTES, max_size=5))
    if draw(st.booleans()):
        return Packet(PacketType.EVENT, namespace, [draw(TEXT), *args],
                      draw(st.none() | ACK_IDS))
    return Packet(PacketType.ACK, namespace, args, draw(ACK_IDS))
