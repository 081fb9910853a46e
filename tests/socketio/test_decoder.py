"""Decoding: ``decode_text`` of one packet's text, and ``Decoder`` reassembling attachments."""
from __future__ import annotations

import json
import sys
from typing import Any, List, Optional, Union

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sio_core.server.jsonlib import json_functions
from sio_core.socketio import (
    MAX_DEPTH,
    Decoder,
    Packet,
    PacketType,
    ProtocolError,
    decode_text,
    encode,
)

from .strategies import (
    ACK_IDS,
    ANY_WITH_BINARY,
    NAMESPACES,
    TEXT,
    event_or_ack_packets,
    on_the_wire,
    shape,
)

C, D, E, A, ERR, BE, BA = (PacketType.CONNECT, PacketType.DISCONNECT, PacketType.EVENT,
                           PacketType.ACK, PacketType.CONNECT_ERROR, PacketType.BINARY_EVENT,
                           PacketType.BINARY_ACK)
PH0 = {"_placeholder": True, "num": 0}
PH1 = {"_placeholder": True, "num": 1}
# every code point, lone surrogates included
ANY_TEXT = st.text(st.characters(exclude_categories=()))

# -- decode_text: well-formed input -------------------------------------------------


@pytest.mark.parametrize("text, packet, count", [
    # CONNECT
    ("0", Packet(C), 0),
    ("0/chat", Packet(C, "/chat"), 0),
    ("0/chat,", Packet(C, "/chat"), 0),
    ('0{"token":"abc"}', Packet(C, "/", {"token": "abc"}), 0),
    ('0/chat,{"token":"abc"}', Packet(C, "/chat", {"token": "abc"}), 0),
    ('0/chat,{"sid":"xyz"}', Packet(C, "/chat", {"sid": "xyz"}), 0),
    ("0/chat?token=abc,", Packet(C, "/chat?token=abc"), 0),
    ("0/chat?token=abc&x=%20y", Packet(C, "/chat?token=abc&x=%20y"), 0),
    ("0/?a=1,", Packet(C, "/?a=1"), 0),
    ("0{}", Packet(C, "/", {}), 0),
    # the namespace runs to the first comma: without one it swallows the rest
    ('0/chat{"a":1}', Packet(C, '/chat{"a":1}'), 0),
    # DISCONNECT
    ("1", Packet(D), 0),
    ("1/chat,", Packet(D, "/chat"), 0),
    ("1/chat", Packet(D, "/chat"), 0),
    # EVENT
    ('2["hello",1]', Packet(E, "/", ["hello", 1]), 0),
    ('212["hello",1]', Packet(E, "/", ["hello", 1], 12), 0),
    ('20["hello"]', Packet(E, "/", ["hello"], 0), 0),
    ('2/chat,["hello",1]', Packet(E, "/chat", ["hello", 1]), 0),
    ('2/chat,12["hello",1]', Packet(E, "/chat", ["hello", 1], 12), 0),
    ('2/a/b?c=d,3["x",{"y":[null,true,1.5]}]',
     Packet(E, "/a/b?c=d", ["x", {"y": [None, True, 1.5]}], 3), 0),
    ('2["héllo","☃","\U0001f600"]', Packet(E, "/", ["héllo", "☃", "\U0001f600"]), 0),
    ('2["\\u00e9\\ud83d\\ude00"]', Packet(E, "/", ["é\U0001f600"]), 0),
    ('2[""]', Packet(E, "/", [""]), 0),
    # numeric event names are accepted, as in the reference socket.io-parser
    ("2[1]", Packet(E, "/", [1]), 0),
    ("2" + "9" * 15 + '["x"]', Packet(E, "/", ["x"], 10 ** 15 - 1), 0),
    # ACK
    ("30[]", Packet(A, "/", [], 0), 0),
    ('37["ok",2]', Packet(A, "/", ["ok", 2], 7), 0),
    ('3/chat,7["ok"]', Packet(A, "/chat", ["ok"], 7), 0),
    ("3/chat,007[]", Packet(A, "/chat", [], 7), 0),
    # CONNECT_ERROR: anything goes
    ('4"not authorized"', Packet(ERR, "/", "not authorized"), 0),
    ('4/chat,"not authorized"', Packet(ERR, "/chat", "not authorized"), 0),
    ('4/chat,{"message":"no","data":{"x":1}}',
     Packet(ERR, "/chat", {"message": "no", "data": {"x": 1}}), 0),
    ("4/chat,", Packet(ERR, "/chat"), 0),
    ("4", Packet(ERR), 0),
    # BINARY_EVENT / BINARY_ACK: data keeps its placeholders, the count is returned
    ('51-["up",{"_placeholder":true,"num":0}]', Packet(BE, "/", ["up", PH0]), 1),
    ('52-/chat,12["hello",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
     Packet(BE, "/chat", ["hello", PH0, PH1], 12), 2),
    ('50-["x"]', Packet(BE, "/", ["x"]), 0),
    ('61-5[{"_placeholder":true,"num":0}]', Packet(BA, "/", [PH0], 5), 1),
    ('610-/admin,5[]', Packet(BA, "/admin", [], 5), 10),
    ('6001-5[]', Packet(BA, "/", [], 5), 1),
])
def test_decode_text_exact(text: str, packet: Packet, count: int) -> None:
    assert decode_text(text) == (packet, count)


def test_decode_text_types_are_packet_types() -> None:
    packet, _ = decode_text('2["a"]')
    assert type(packet.type) is PacketType
    assert type(packet.id) is type(None)
    packet, _ = decode_text('27["a"]')
    assert type(packet.id) is int


def test_decode_text_custom_loads() -> None:
    calls = []

    def loads(text: str) -> Any:
        calls.append(text)
        return ["from-loads"]

    assert decode_text("2/x,4<anything>", loads) == (Packet(E, "/x", ["from-loads"], 4), 0)
    assert calls == ["<anything>"]


def test_decode_text_custom_loads_value_error_is_protocol_error() -> None:
    def loads(text: str) -> Any:
        raise ValueError("nope")

    with pytest.raises(ProtocolError):
        decode_text('2["a"]', loads)


# -- decode_text: malformed input ---------------------------------------------------


@pytest.mark.parametrize("text", [
    # empty / unknown type
    "",
    "7",
    "8[]",
    "9",
    "a",
    " 2[\"a\"]",
    "-1",
    "/chat,",
    "\u0662[\"a\"]",  # ARABIC-INDIC DIGIT TWO
    # bad JSON
    '2["a"',
    "2[a]",
    "2['a']",
    '2["a"]x',
    '2["a"] ["b"]',
    "2{",
    '0/chat,{"a":}',
    '0{"token":"abc"',
    '2/chat,12["a",]',
    "2" + "[" * 100000 + "]" * 100000,
    # event: empty array, not an array, first element not a string (or a number)
    "2[]",
    "2",
    "2/chat,",
    "212",
    '2{"a":1}',
    '2"hello"',
    "21",
    "2null",
    "2[null]",
    "2[true]",
    "2[false]",
    '2[{"a":1}]',
    '2[["a"]]',
    "2[1.5]",
    "50-[]",
    '51-{"a":1}',
    "51-[null]",
    "51-[true]",
    # ack: no id, no array
    "3[]",
    '3["ok"]',
    "3/chat,[]",
    "37",
    "3/chat,7",
    '37{"a":1}',
    '37"ok"',
    "37null",
    "61-[]",
    '61-/chat,["a"]',
    "61-7",
    # CONNECT data not an object
    "0[]",
    '0"token"',
    "0/chat,[]",
    "0true",
    # DISCONNECT with data
    "1{}",
    "1/chat,{}",
    '1"bye"',
    "1[]",
    # a namespace not closed by a comma swallows the JSON
    '2/chat["a"]',
    # ack id of more than 15 digits
    "2" + "1" * 16 + '["a"]',
    "3/chat," + "9" * 16 + "[]",
    # attachment count: missing, empty, not ASCII digits, too long
    "5",
    "5-",
    '5-["a"]',
    '5["a"]',
    '51["a"]',
    '5a-["a"]',
    '5 1-["a"]',
    '5+1-["a"]',
    '5-1-["a"]',
    '5\u0661-["a"]',  # ARABIC-INDIC DIGIT ONE
    '5\uff11-["a"]',  # FULLWIDTH DIGIT ONE
    '5\u00b9-["a"]',  # SUPERSCRIPT ONE
    "6",
    "6-",
    "6-1[]",
    "5" + "1" * 16 + '-["a"]',
    "6" + "1" * 16 + "-1[]",
])
def test_decode_text_malformed(text: str) -> None:
    with pytest.raises(ProtocolError):
        decode_text(text)


@pytest.mark.parametrize("text", ["0null", "0/chat,null", "1null", "1/chat,null"])
def test_decode_text_explicit_null_data_raises(text: str) -> None:
    # an explicit JSON null is data: not an object for CONNECT, and DISCONNECT carries none
    # (decoder.py at cfaafc7 took it for "no data": decode_text('1null') == (Packet(1), 0))
    with pytest.raises(ProtocolError):
        decode_text(text)


def test_decode_text_count_of_15_digits_is_read() -> None:
    assert decode_text("5" + "1" * 15 + '-["a"]') == (Packet(BE, "/", ["a"]), int("1" * 15))


@given(ANY_TEXT)
@settings(max_examples=500)
def test_fuzz_decode_text_arbitrary_text(text: str) -> None:
    try:
        packet, count = decode_text(text)
    except ProtocolError:
        return
    assert type(packet) is Packet
    assert type(count) is int


PREFIXES = st.sampled_from(
    ["0", "1", "2", "3", "4", "5", "6", "51-", "52-", "60-", "61-", "5-", "2/", "0/chat,",
     "2/chat,", "212", "3/x,7", "51-/a,3", "0/chat?token=abc,"])
JSONISH = st.text(st.sampled_from(list('[]{}",:0123456789-/ abtrufnlse_\\.+E')), max_size=30)


@given(PREFIXES, JSONISH)
@settings(max_examples=500)
def test_fuzz_decode_text_structured(prefix: str, tail: str) -> None:
    try:
        packet, count = decode_text(prefix + tail)
    except ProtocolError:
        return
    assert type(packet) is Packet
    assert type(count) is int


# -- Decoder.feed ---------------------------------------------------------------------


@pytest.mark.parametrize("text, packet", [
    ("0", Packet(C)),
    ('0/chat,{"token":"abc"}', Packet(C, "/chat", {"token": "abc"})),
    ("1/chat,", Packet(D, "/chat")),
    ('2["hello",1]', Packet(E, "/", ["hello", 1])),
    ('3/chat,7["ok"]', Packet(A, "/chat", ["ok"], 7)),
    ('4"no"', Packet(ERR, "/", "no")),
    # a binary packet without attachments completes at once, as its plain type
    ('50-["x"]', Packet(E, "/", ["x"])),
    ("60-/chat,3[]", Packet(A, "/chat", [], 3)),
])
def test_feed_text_packets(text: str, packet: Packet) -> None:
    decoder = Decoder()
    assert decoder.feed(text) == packet
    assert decoder.waiting is False


def test_feed_binary_event_with_two_attachments() -> None:
    decoder = Decoder()
    assert decoder.feed('52-/chat,12["hello",{"_placeholder":true,"num":0},'
                        '{"x":[{"_placeholder":true,"num":1}]}]') is None
    assert decoder.waiting is True
    assert decoder.feed(b"\x00\x01") is None
    assert decoder.waiting is True
    packet = decoder.feed(bytearray(b"\xff"))
    assert packet == Packet(E, "/chat", ["hello", b"\x00\x01", {"x": [b"\xff"]}], 12)
    assert shape(packet.data) == shape(["hello", b"\x00\x01", {"x": [b"\xff"]}])
    assert decoder.waiting is False


def test_feed_binary_ack_with_memoryview_attachment() -> None:
    decoder = Decoder()
    assert decoder.feed('61-4[{"_placeholder":true,"num":0}]') is None
    packet = decoder.feed(memoryview(b"abc"))
    assert packet == Packet(A, "/", [b"abc"], 4)
    assert type(packet.data[0]) is bytes


def test_feed_placeholder_used_twice_and_attachment_unused() -> None:
    decoder = Decoder()
    assert decoder.feed('52-["e",{"_placeholder":true,"num":1},'
                        '{"_placeholder":true,"num":1}]') is None
    assert decoder.feed(b"a") is None
    assert decoder.feed(b"b") == Packet(E, "/", ["e", b"b", b"b"])


def test_feed_decoder_is_reusable() -> None:
    decoder = Decoder()
    assert decoder.feed('51-["a",{"_placeholder":true,"num":0}]') is None
    assert decoder.feed(b"1") == Packet(E, "/", ["a", b"1"])
    assert decoder.feed('2["b"]') == Packet(E, "/", ["b"])
    assert decoder.feed('61-/n,0[{"_placeholder":true,"num":0}]') is None
    assert decoder.feed(b"2") == Packet(A, "/n", [b"2"], 0)
    assert decoder.waiting is False


def test_feed_max_attachments_boundary() -> None:
    decoder = Decoder(max_attachments=2)
    assert decoder.feed('52-["a"]') is None
    assert decoder.feed(b"1") is None
    assert decoder.feed(b"2") == Packet(E, "/", ["a"])


@pytest.mark.parametrize("text", ['53-["a"]', '6999-1[]', "61000000-1[]"])
def test_feed_attachment_count_over_max_raises(text: str) -> None:
    decoder = Decoder(max_attachments=2)
    with pytest.raises(ProtocolError):
        decoder.feed(text)
    assert decoder.waiting is False


def test_feed_attachment_bytes_limit() -> None:
    decoder = Decoder(max_attachment_bytes=5)
    assert decoder.feed('52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'
                        ) is None
    assert decoder.feed(b"123") is None
    assert decoder.feed(b"45") == Packet(E, "/", ["a", b"123", b"45"])  # exactly the limit
    assert decoder.feed('52-["a"]') is None  # counted per packet
    assert decoder.feed(b"1234") is None
    with pytest.raises(ProtocolError):
        decoder.feed(b"12")
    assert Decoder().max_attachment_bytes is None


def test_feed_default_max_attachments() -> None:
    assert Decoder().max_attachments == 1000
    assert Decoder().feed('51000-["a"]') is None
    with pytest.raises(ProtocolError):
        Decoder().feed('51001-["a"]')


def test_feed_text_while_attachments_due_raises() -> None:
    decoder = Decoder()
    assert decoder.feed('52-["a",{"_placeholder":true,"num":0}]') is None
    assert decoder.feed(b"1") is None
    with pytest.raises(ProtocolError):
        decoder.feed('2["b"]')


@pytest.mark.parametrize("message", [b"x", b"", bytearray(b"x"), memoryview(b"x")])
def test_feed_binary_when_none_due_raises(message: Any) -> None:
    decoder = Decoder()
    with pytest.raises(ProtocolError):
        decoder.feed(message)


def test_feed_binary_after_complete_packet_raises() -> None:
    decoder = Decoder()
    assert decoder.feed('51-["a",{"_placeholder":true,"num":0}]') is None
    assert decoder.feed(b"1") == Packet(E, "/", ["a", b"1"])
    with pytest.raises(ProtocolError):
        decoder.feed(b"2")


@pytest.mark.parametrize("text, attachments", [
    ('51-["a",{"_placeholder":true,"num":1}]', [b"x"]),
    ('51-["a",{"_placeholder":true,"num":-1}]', [b"x"]),
    ('51-["a",{"_placeholder":true,"num":"0"}]', [b"x"]),
    ('51-["a",{"_placeholder":true,"num":0.0}]', [b"x"]),
    ('51-["a",{"_placeholder":true,"num":true}]', [b"x"]),
    ('51-["a",{"_placeholder":true,"num":null}]', [b"x"]),
    ('50-["a",{"_placeholder":true,"num":0}]', []),
    ('62-3[{"_placeholder":true,"num":2}]', [b"x", b"y"]),
])
def test_feed_bad_placeholder_raises(text: str, attachments: List[bytes]) -> None:
    decoder = Decoder()
    with pytest.raises(ProtocolError):
        for message in [text, *attachments]:
            decoder.feed(message)
    assert decoder.waiting is False


@pytest.mark.parametrize("text", [
    "", "7", '2["a"', "2[]", '2{"a":1}', "2[null]", "3[]", "37", "0[]", "1{}", '5-["a"]',
    '5a-["a"]', "2" + "1" * 16 + '["a"]',
])
def test_feed_malformed_text_raises(text: str) -> None:
    with pytest.raises(ProtocolError):
        Decoder().feed(text)


def test_feed_custom_loads() -> None:
    decoder = Decoder(loads=lambda text: ["e", {"_placeholder": True, "num": 0}])
    assert decoder.feed("51-whatever") is None
    assert decoder.feed(b"z") == Packet(E, "/", ["e", b"z"])


def test_feed_deeply_nested_binary_packet_raises_only_protocol_error() -> None:
    # join_binary recurses once per nesting level (two frames per list on CPython 3.11): at
    # cfaafc7 '50-["e",' + '[' * 500 + ']' * 501 raised RecursionError from Decoder.feed
    # every depth json.loads accepts must either decode or raise ProtocolError
    for depth in range(50, 2 * sys.getrecursionlimit(), 50):
        text = '50-["e",' + "[" * depth + "]" * depth + "]"
        try:
            packet = Decoder().feed(text)
        except ProtocolError:
            break  # too deep for json.loads: refused properly, deeper is refused too
        assert packet.type == E


def test_feed_deeply_nested_placeholder_raises_only_protocol_error() -> None:
    # the same recursion reached through the attachment message: at cfaafc7
    # '51-["e",' + '[' * 500 + '{"_placeholder":true,"num":0}' + ']' * 501, then b"x"
    for depth in range(50, 2 * sys.getrecursionlimit(), 50):
        text = '51-["e",' + "[" * depth + '{"_placeholder":true,"num":0}' + "]" * depth + "]"
        decoder = Decoder()
        try:
            assert decoder.feed(text) is None
        except ProtocolError:
            break
        try:
            packet = decoder.feed(b"x")
        except ProtocolError:
            break
        assert packet.type == E


def test_feed_plain_event_nested_to_the_limit_is_fine() -> None:
    depth = MAX_DEPTH - 1  # inside the event's own array
    packet = Decoder().feed('2["e",' + "[" * depth + "]" * depth + "]")
    assert packet.data[0] == "e"


# found by tests/socketio/test_hostile_packets.py: orjson decodes any depth, and the
# handler's emit (has_binary) then died of RecursionError with a traceback per message
@pytest.mark.parametrize("loads", [json.loads, json_functions()[1]], ids=["json", "server"])
@pytest.mark.parametrize("inner", ["[" * MAX_DEPTH + "]" * MAX_DEPTH,
                                   '{"a":' * MAX_DEPTH + "1" + "}" * MAX_DEPTH,
                                   "[" * 100_000 + "]" * 100_000])
def test_feed_plain_event_nested_past_the_limit_raises(loads: Any, inner: str) -> None:
    with pytest.raises(ProtocolError):
        Decoder(loads).feed('2["e",%s]' % inner)


def test_many_shallow_arrays_are_not_too_deep() -> None:
    packet = Decoder().feed('2["e",%s]' % ",".join(["[[1]]"] * (3 * MAX_DEPTH)))
    assert len(packet.data) == 1 + 3 * MAX_DEPTH


# -- encoder <-> decoder as peers ---------------------------------------------------


def transmit(packet: Packet, decoder: Optional[Decoder] = None) -> List[Optional[Packet]]:
    """Encode ``packet`` and feed every message to ``decoder``; the results in order."""
    decoder = decoder or Decoder()
    return [decoder.feed(message) for message in encode(packet).messages()]


@given(event_or_ack_packets())
@settings(deadline=None)
def test_round_trip_event_and_ack(packet: Packet) -> None:
    encoded = encode(packet)
    decoder = Decoder()
    results = [decoder.feed(encoded.text)]
    for attachment in encoded.attachments:
        assert results[-1] is None
        assert decoder.waiting is True
        results.append(decoder.feed(attachment))
    assert len(results) == 1 + len(encoded.attachments)
    expected = packet._replace(data=on_the_wire(packet.data))
    assert results[-1] == expected
    assert shape(results[-1].data) == shape(expected.data)
    assert type(results[-1].type) is PacketType
    assert decoder.waiting is False


@given(NAMESPACES, st.none() | ACK_IDS, TEXT, st.lists(ANY_WITH_BINARY, max_size=4))
@settings(deadline=None)
def test_round_trip_normalises_bytes_likes_and_tuples(
        namespace: str, ack_id: Optional[int], name: str, args: list) -> None:
    results = transmit(Packet(E, namespace, [name, *args], ack_id))
    assert results[:-1] == [None] * (len(results) - 1)
    expected = Packet(E, namespace, [name, *on_the_wire(args)], ack_id)
    assert results[-1] == expected
    assert shape(results[-1].data) == shape(expected.data)


@given(st.lists(event_or_ack_packets(), min_size=1, max_size=5))
@settings(deadline=None)
def test_round_trip_stream_through_one_decoder(packets: List[Packet]) -> None:
    decoder = Decoder()
    received = []
    for packet in packets:
        for message in encode(packet).messages():
            result = decoder.feed(message)
            if result is not None:
                received.append(result)
    assert received == [packet._replace(data=on_the_wire(packet.data)) for packet in packets]


@pytest.mark.parametrize("packet", [
    Packet(C),
    Packet(C, "/chat"),
    Packet(C, "/chat", {"token": "abc", "n": [1, None]}),
    Packet(D),
    Packet(D, "/chat"),
    Packet(ERR, "/", "not authorized"),
    Packet(ERR, "/chat", {"message": "not authorized", "data": {"code": 1}}),
    Packet(E, "/", ["hello", 1]),
    Packet(E, "/chat", ["hello", 1], 12),
    Packet(A, "/", [], 0),
])
def test_round_trip_every_type(packet: Packet) -> None:
    assert transmit(packet) == [packet]


@given(NAMESPACES, st.dictionaries(TEXT, TEXT | st.integers() | st.none(), max_size=4))
def test_round_trip_connect(namespace: str, auth: dict) -> None:
    for packet in (Packet(C, namespace), Packet(C, namespace, auth), Packet(D, namespace)):
        assert transmit(packet) == [packet]


# -- fuzz: a decoder fed anything ---------------------------------------------------

MESSAGES = st.lists(
    st.one_of(
        ANY_TEXT,
        st.builds(lambda p, t: p + t, PREFIXES, JSONISH),
        st.binary(max_size=8),
    ),
    max_size=6,
)


@given(MESSAGES)
@settings(max_examples=300)
def test_fuzz_decoder_feed(messages: List[Union[str, bytes]]) -> None:
    decoder = Decoder(max_attachments=3)
    for message in messages:
        try:
            result = decoder.feed(message)
        except ProtocolError:
            return
        assert type(result) in (Packet, type(None))
        if result is not None:
            assert result.type in (C, D, E, A, ERR)
