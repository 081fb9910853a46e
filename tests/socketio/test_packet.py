"""Socket.IO packets and their text encoding: ``encode`` and ``EncodedPacket``."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sio_core.socketio import (
    EncodedPacket,
    Packet,
    PacketType,
    default_dumps,
    default_loads,
    encode,
    refuses_binary,
)

from .strategies import ACK_IDS, ANY_WITH_BINARY, NAMESPACES, TEXT, count_binary, normalise

PH0 = {"_placeholder": True, "num": 0}
PH1 = {"_placeholder": True, "num": 1}


def test_packet_type_values() -> None:
    assert [(t.name, int(t)) for t in PacketType] == [
        ("CONNECT", 0), ("DISCONNECT", 1), ("EVENT", 2), ("ACK", 3), ("CONNECT_ERROR", 4),
        ("BINARY_EVENT", 5), ("BINARY_ACK", 6),
    ]


def test_packet_defaults() -> None:
    packet = Packet(PacketType.EVENT)
    assert (packet.type, packet.namespace, packet.data, packet.id) == (
        PacketType.EVENT, "/", None, None)


# -- exact encodings ----------------------------------------------------------------


@pytest.mark.parametrize("packet, text", [
    # CONNECT
    (Packet(PacketType.CONNECT), "0"),
    (Packet(PacketType.CONNECT, "/chat"), "0/chat,"),
    (Packet(PacketType.CONNECT, "/", {"token": "abc"}), '0{"token":"abc"}'),
    (Packet(PacketType.CONNECT, "/chat", {"token": "abc"}), '0/chat,{"token":"abc"}'),
    (Packet(PacketType.CONNECT, "/chat", {"sid": "xyz"}), '0/chat,{"sid":"xyz"}'),
    # DISCONNECT
    (Packet(PacketType.DISCONNECT), "1"),
    (Packet(PacketType.DISCONNECT, "/chat"), "1/chat,"),
    # EVENT
    (Packet(PacketType.EVENT, "/", ["hello", 1]), '2["hello",1]'),
    (Packet(PacketType.EVENT, "/", ["hello", 1], 12), '212["hello",1]'),
    (Packet(PacketType.EVENT, "/chat", ["hello", 1]), '2/chat,["hello",1]'),
    (Packet(PacketType.EVENT, "/chat", ["hello", 1], 12), '2/chat,12["hello",1]'),
    (Packet(PacketType.EVENT, "/", ["hello", 1], 0), '20["hello",1]'),
    (Packet(PacketType.EVENT, "/", ["a", {"b": [1, 2.5, None, True, False]}]),
     '2["a",{"b":[1,2.5,null,true,false]}]'),
    # ACK
    (Packet(PacketType.ACK, "/", [], 0), "30[]"),
    (Packet(PacketType.ACK, "/", ["ok", 2], 7), '37["ok",2]'),
    (Packet(PacketType.ACK, "/chat", ["ok"], 7), '3/chat,7["ok"]'),
    # CONNECT_ERROR
    (Packet(PacketType.CONNECT_ERROR, "/", "not authorized"), '4"not authorized"'),
    (Packet(PacketType.CONNECT_ERROR, "/chat", "not authorized"), '4/chat,"not authorized"'),
    (Packet(PacketType.CONNECT_ERROR, "/chat", {"message": "no", "data": {"x": 1}}),
     '4/chat,{"message":"no","data":{"x":1}}'),
    # BINARY_EVENT / BINARY_ACK given explicitly without any bytes: zero attachments
    (Packet(PacketType.BINARY_EVENT, "/", ["a"]), '50-["a"]'),
    (Packet(PacketType.BINARY_ACK, "/chat", [], 3), "60-/chat,3[]"),
])
def test_encode_exact(packet: Packet, text: str) -> None:
    assert encode(packet) == EncodedPacket(text, [])


def test_binary_event_two_attachments_with_namespace_and_id() -> None:
    packet = Packet(PacketType.EVENT, "/chat", ["hello", b"\x00\x01", {"x": [b"\xff"]}], 12)
    encoded = encode(packet)
    assert encoded.text == ('52-/chat,12["hello",{"_placeholder":true,"num":0},'
                            '{"x":[{"_placeholder":true,"num":1}]}]')
    assert encoded.attachments == [b"\x00\x01", b"\xff"]


@pytest.mark.parametrize("packet, text, attachments", [
    (Packet(PacketType.EVENT, "/", ["up", b"abc"]), '51-["up",{"_placeholder":true,"num":0}]',
     [b"abc"]),
    (Packet(PacketType.EVENT, "/", ["up", bytearray(b"abc")], 1),
     '51-1["up",{"_placeholder":true,"num":0}]', [b"abc"]),
    (Packet(PacketType.EVENT, "/", ["up", memoryview(b"abc")]),
     '51-["up",{"_placeholder":true,"num":0}]', [b"abc"]),
    (Packet(PacketType.EVENT, "/", ["up", b""]), '51-["up",{"_placeholder":true,"num":0}]',
     [b""]),
    (Packet(PacketType.ACK, "/", [b"a", b"b"], 5),
     '62-5[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', [b"a", b"b"]),
    (Packet(PacketType.ACK, "/admin", [{"k": (b"a", 1)}], 5),
     '61-/admin,5[{"k":[{"_placeholder":true,"num":0},1]}]', [b"a"]),
])
def test_encode_binary_exact(packet: Packet, text: str, attachments: list) -> None:
    encoded = encode(packet)
    assert encoded.text == text
    assert encoded.attachments == attachments
    assert [type(a) for a in encoded.attachments] == [bytes] * len(attachments)


def test_placeholders_numbered_in_depth_first_order() -> None:
    data = ["e", [b"0", {"a": b"1", "b": [b"2"]}], b"3", ({"c": b"4"},)]
    encoded = encode(Packet(PacketType.EVENT, "/", data))
    assert encoded.attachments == [b"0", b"1", b"2", b"3", b"4"]
    assert json.loads(encoded.text[len("55-"):]) == [
        "e",
        [{"_placeholder": True, "num": 0},
         {"a": {"_placeholder": True, "num": 1}, "b": [{"_placeholder": True, "num": 2}]}],
        {"_placeholder": True, "num": 3},
        [{"c": {"_placeholder": True, "num": 4}}],
    ]


@pytest.mark.parametrize("ptype", [PacketType.CONNECT, PacketType.CONNECT_ERROR])
def test_bytes_only_become_attachments_in_events_and_acks(ptype: PacketType) -> None:
    # CONNECT / CONNECT_ERROR never carry attachments: the type stays, bytes go to dumps
    seen = []

    def dumps(value: object) -> str:
        seen.append(value)
        return "X"

    encoded = encode(Packet(ptype, "/", {"k": b"v"}), dumps)
    assert encoded == EncodedPacket("%dX" % ptype, [])
    assert seen == [{"k": b"v"}]


def test_encode_leaves_the_packet_data_untouched() -> None:
    data = ["e", b"x", {"k": bytearray(b"y")}]
    encode(Packet(PacketType.EVENT, "/", data))
    assert data == ["e", b"x", {"k": bytearray(b"y")}]
    assert type(data[2]["k"]) is bytearray


# -- JSON -----------------------------------------------------------------------------


@pytest.mark.parametrize("value, text", [
    (["héllo"], '2["héllo"]'),
    (["☃", "日本語"], '2["☃","日本語"]'),
    (["\U0001f600"], '2["\U0001f600"]'),
    (["\u2028\u2029"], '2["\u2028\u2029"]'),
    (["q\"b\\n\n\t"], '2["q\\"b\\\\n\\n\\t"]'),
    (["\x00\x1f"], '2["\\u0000\\u001f"]'),
    (["e", {"a b": 1, "c": [1, 2]}], '2["e",{"a b":1,"c":[1,2]}]'),
])
def test_unicode_unescaped_and_json_compact(value: list, text: str) -> None:
    assert encode(Packet(PacketType.EVENT, "/", value)).text == text


def test_default_dumps_and_loads() -> None:
    assert default_dumps({"a": [1, "é", None]}) == '{"a":[1,"é",null]}'
    assert default_loads('{"a":[1,"é",null]}') == {"a": [1, "é", None]}


def test_custom_dumps_is_used() -> None:
    encoded = encode(Packet(PacketType.EVENT, "/chat", ["e", b"z"], 3),
                     lambda value: "<%d>" % len(value))
    assert encoded == EncodedPacket("51-/chat,3<2>", [b"z"])


def test_a_dumps_not_declared_to_refuse_binary_still_gets_attachments() -> None:
    """A JSON module that writes bytes itself (ujson does) is not asked first."""
    def writes_bytes(value: object) -> str:
        return json.dumps(value, default=lambda b: bytes(b).decode("latin-1"),
                          separators=(",", ":"))

    packet = Packet(PacketType.EVENT, "/", ["e", {"k": b"\x01"}])
    assert encode(packet, writes_bytes) == EncodedPacket(
        '51-["e",{"k":{"_placeholder":true,"num":0}}]', [b"\x01"])
    # declared (wrongly, here): asked first, and what it wrote is sent as it is
    assert encode(packet, refuses_binary(writes_bytes)).text == '2["e",{"k":"\\u0001"}]'


@given(ptype=st.sampled_from([PacketType.EVENT, PacketType.ACK]), ack_id=st.none() | ACK_IDS,
       args=st.lists(ANY_WITH_BINARY, max_size=4))
def test_a_dumps_that_refuses_binary_encodes_as_one_that_is_not_asked_first(
        ptype: PacketType, ack_id: object, args: list) -> None:
    from sio_core.server.jsonlib import json_functions

    for dumps in (default_dumps, json_functions(None)[0]):
        data = ["ev", *args] if ptype is PacketType.EVENT else args
        packet = Packet(ptype, "/", data, ack_id if ptype is PacketType.EVENT else 1)
        assert encode(packet, dumps) == encode(packet, lambda value, dumps=dumps: dumps(value))


@given(data=st.lists(TEXT | st.integers() | st.none(), max_size=5))
def test_json_part_is_default_dumps(data: list) -> None:
    text = encode(Packet(PacketType.EVENT, "/", ["e", *data])).text
    assert text == "2" + default_dumps(["e", *data])
    assert json.loads(text[1:]) == ["e", *data]


@given(namespace=NAMESPACES, ack_id=st.none() | ACK_IDS,
       args=st.lists(ANY_WITH_BINARY, max_size=4))
def test_encode_head_and_attachment_count(namespace: str, ack_id: object, args: list) -> None:
    encoded = encode(Packet(PacketType.EVENT, namespace, ["ev", *args], ack_id))
    count = count_binary(args)
    head = ("5%d-" % count) if count else "2"
    if namespace != "/":
        head += namespace + ","
    if ack_id is not None:
        head += str(ack_id)
    assert encoded.text[:len(head)] == head
    assert encoded.text[len(head)] == "["
    assert len(encoded.attachments) == count
    assert [type(a) for a in encoded.attachments] == [bytes] * count
    flat: list = []

    def collect(value: object) -> None:
        if isinstance(value, bytes):
            flat.append(value)
        elif isinstance(value, list):
            for item in value:
                collect(item)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)

    collect(normalise(args))
    assert encoded.attachments == flat


# -- EncodedPacket.messages ---------------------------------------------------------


def test_messages_without_attachments() -> None:
    assert EncodedPacket('2["a"]', []).messages() == ['2["a"]']


def test_messages_with_attachments() -> None:
    encoded = EncodedPacket('52-["a",{},{}]', [b"1", b"2"])
    assert encoded.messages() == ['52-["a",{},{}]', b"1", b"2"]


def test_messages_of_encoded_binary_event() -> None:
    encoded = encode(Packet(PacketType.EVENT, "/", ["a", b"1", b"2"]))
    assert encoded.messages() == [
        '52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', b"1", b"2"]


def test_messages_is_a_new_list() -> None:
    encoded = EncodedPacket("x", [b"1"])
    encoded.messages().append("y")
    assert encoded.messages() == ["x", b"1"]
    assert encoded.attachments == [b"1"]
