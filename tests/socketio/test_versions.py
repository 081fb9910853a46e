"""Protocol 4 / 5 policies: socket ids, connect replies, refusals, CONNECT packets."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sio_core.socketio import (
    V4,
    V5,
    Decoder,
    Packet,
    PacketType,
    Protocol,
    decode_text,
    encode,
    protocol_for,
)

from .strategies import JSON_SCALARS, NAMESPACES, TEXT, on_the_wire

C, ERR = PacketType.CONNECT, PacketType.CONNECT_ERROR

# -- protocol_for, revisions ------------------------------------------------------------


def test_protocol_for_engine_io_3_is_v4() -> None:
    proto = protocol_for(3)
    assert type(proto) is V4
    assert isinstance(proto, Protocol) is True
    assert proto.revision == 4


def test_protocol_for_engine_io_4_is_v5() -> None:
    proto = protocol_for(4)
    assert type(proto) is V5
    assert isinstance(proto, Protocol) is True
    assert proto.revision == 5


def test_protocol_for_returns_shared_instances() -> None:
    assert protocol_for(3) is protocol_for(3)
    assert protocol_for(4) is protocol_for(4)
    assert protocol_for(3) is not protocol_for(4)


def test_implicit_root() -> None:
    # protocol 4 clients are connected to "/" without asking; protocol 5 clients send CONNECT
    assert V4.implicit_root is True
    assert V5.implicit_root is False
    assert protocol_for(3).implicit_root is True
    assert protocol_for(4).implicit_root is False
    assert Protocol.implicit_root is False


def test_base_protocol_is_abstract() -> None:
    base = Protocol()
    assert base.revision == 0
    with pytest.raises(NotImplementedError):
        base.socket_id("/", "sid")
    with pytest.raises(NotImplementedError):
        base.connect_reply("/", "sid")
    with pytest.raises(NotImplementedError):
        base.refusal("/", "no")
    with pytest.raises(NotImplementedError):
        base.split_connect(Packet(C))


# -- socket ids -----------------------------------------------------------------------


@pytest.mark.parametrize("namespace, engine_sid, socket_id", [
    ("/", "AbC123_-", "AbC123_-"),
    ("/chat", "AbC123_-", "/chat#AbC123_-"),
    ("/a/b", "x", "/a/b#x"),
])
def test_v4_socket_id(namespace: str, engine_sid: str, socket_id: str) -> None:
    assert V4().socket_id(namespace, engine_sid) == socket_id


@given(NAMESPACES, st.text(min_size=1, max_size=30))
def test_v4_socket_id_scheme(namespace: str, engine_sid: str) -> None:
    expected = engine_sid if namespace == "/" else namespace + "#" + engine_sid
    assert V4().socket_id(namespace, engine_sid) == expected
    # deterministic
    assert V4().socket_id(namespace, engine_sid) == V4().socket_id(namespace, engine_sid)


def test_v5_socket_ids_random_distinct_and_long() -> None:
    v5 = V5()
    ids = [v5.socket_id(ns, "engine-sid") for ns in ("/", "/chat") for _ in range(500)]
    assert len(set(ids)) == len(ids)
    assert min(len(i) for i in ids) >= 20
    assert [i for i in ids if not re.fullmatch(r"[A-Za-z0-9_-]+", i)] == []
    assert [i for i in ids if "engine-sid" in i or "#" in i] == []


def test_v5_socket_id_differs_for_same_namespace_and_engine_sid() -> None:
    v5 = V5()
    assert v5.socket_id("/", "sid") != v5.socket_id("/", "sid")
    assert v5.socket_id("/", "sid") != "sid"


# -- connect replies ------------------------------------------------------------------


@pytest.mark.parametrize("namespace, text", [("/", "0"), ("/chat", "0/chat,")])
def test_v4_connect_reply(namespace: str, text: str) -> None:
    reply = V4().connect_reply(namespace, "ignored-id")
    assert reply == Packet(C, namespace)
    assert encode(reply).text == text
    assert encode(reply).attachments == []


@pytest.mark.parametrize("namespace, text", [
    ("/", '0{"sid":"abc"}'), ("/chat", '0/chat,{"sid":"abc"}')])
def test_v5_connect_reply(namespace: str, text: str) -> None:
    reply = V5().connect_reply(namespace, "abc")
    assert reply == Packet(C, namespace, {"sid": "abc"})
    assert encode(reply).text == text


def test_v5_connect_reply_with_generated_id_round_trips() -> None:
    v5 = V5()
    sid = v5.socket_id("/chat", "e")
    assert Decoder().feed(encode(v5.connect_reply("/chat", sid)).text) == Packet(
        C, "/chat", {"sid": sid})


# -- refusals -------------------------------------------------------------------------


@pytest.mark.parametrize("proto, namespace, message, data, packet, text", [
    (V4(), "/chat", "not authorized", None,
     Packet(ERR, "/chat", "not authorized"), '4/chat,"not authorized"'),
    (V4(), "/", "not authorized", None,
     Packet(ERR, "/", "not authorized"), '4"not authorized"'),
    # protocol 4 sends the data in place of the message (socket.io 2: err.data || err.message)
    (V4(), "/chat", "not authorized", {"code": 401},
     Packet(ERR, "/chat", {"code": 401}), '4/chat,{"code":401}'),
    (V4(), "/chat", "not authorized", "custom",
     Packet(ERR, "/chat", "custom"), '4/chat,"custom"'),
    (V5(), "/chat", "not authorized", None,
     Packet(ERR, "/chat", {"message": "not authorized"}),
     '4/chat,{"message":"not authorized"}'),
    (V5(), "/", "not authorized", None,
     Packet(ERR, "/", {"message": "not authorized"}), '4{"message":"not authorized"}'),
    (V5(), "/chat", "not authorized", {"code": 401},
     Packet(ERR, "/chat", {"message": "not authorized", "data": {"code": 401}}),
     '4/chat,{"message":"not authorized","data":{"code":401}}'),
    (V5(), "/chat", "no", [1, "two"],
     Packet(ERR, "/chat", {"message": "no", "data": [1, "two"]}),
     '4/chat,{"message":"no","data":[1,"two"]}'),
    (V5(), "/chat", "no", 0, Packet(ERR, "/chat", {"message": "no", "data": 0}),
     '4/chat,{"message":"no","data":0}'),
    (V5(), "/chat", "é", "ü", Packet(ERR, "/chat", {"message": "é", "data": "ü"}),
     '4/chat,{"message":"é","data":"ü"}'),
])
def test_refusal(proto: Protocol, namespace: str, message: str, data: Any, packet: Packet,
                 text: str) -> None:
    refusal = proto.refusal(namespace, message, data)
    assert refusal == packet
    assert encode(refusal).text == text
    assert decode_text(text) == (packet, 0)


@given(NAMESPACES, TEXT, st.none() | st.dictionaries(TEXT, JSON_SCALARS, max_size=3))
def test_v5_refusal_round_trips(namespace: str, message: str, data: Any) -> None:
    refusal = V5().refusal(namespace, message, data)
    expected = {"message": message} if data is None else {"message": message, "data": data}
    assert refusal == Packet(ERR, namespace, expected)
    assert Decoder().feed(encode(refusal).text) == refusal._replace(
        data=on_the_wire(refusal.data))


@given(NAMESPACES, TEXT)
def test_v4_refusal_round_trips(namespace: str, message: str) -> None:
    refusal = V4().refusal(namespace, message)
    assert refusal == Packet(ERR, namespace, message)
    assert Decoder().feed(encode(refusal).text) == refusal._replace(
        data=on_the_wire(refusal.data))


# -- split_connect --------------------------------------------------------------------


@pytest.mark.parametrize("text, namespace, query", [
    ("0/chat?token=abc,", "/chat", {"token": "abc"}),
    ("0/chat?token=abc", "/chat", {"token": "abc"}),
    ("0/chat,", "/chat", {}),
    ("0/chat?,", "/chat", {}),
    ("0", "/", {}),
    ("0/?token=abc,", "/", {"token": "abc"}),
    ("0/chat?a=1&b=two&empty=,", "/chat", {"a": "1", "b": "two", "empty": ""}),
    ("0/chat?x=a%20b%2Cc&y=%C3%A9,", "/chat", {"x": "a b,c", "y": "é"}),
    ("0/chat?x=a+b,", "/chat", {"x": "a b"}),
    ("0/chat?flag,", "/chat", {"flag": ""}),
])
def test_v4_split_connect_reads_query_from_namespace(text: str, namespace: str,
                                                     query: dict) -> None:
    packet, _ = decode_text(text)
    assert V4().split_connect(packet) == (namespace, query, None)


def test_v4_split_connect_ignores_data() -> None:
    assert V4().split_connect(Packet(C, "/chat?t=1", {"token": "abc"})) == (
        "/chat", {"t": "1"}, None)


def test_v4_split_connect_bare_query_is_root() -> None:
    assert V4().split_connect(Packet(C, "?t=1")) == ("/", {"t": "1"}, None)


@pytest.mark.parametrize("text, namespace, auth", [
    ('0/chat,{"token":"abc"}', "/chat", {"token": "abc"}),
    ('0{"token":"abc"}', "/", {"token": "abc"}),
    ("0/chat,", "/chat", None),
    ("0", "/", None),
    ("0{}", "/", {}),
    ('0/chat,{"a":[1,{"b":null}]}', "/chat", {"a": [1, {"b": None}]}),
])
def test_v5_split_connect_reads_auth(text: str, namespace: str, auth: Any) -> None:
    packet, _ = decode_text(text)
    assert V5().split_connect(packet) == (namespace, {}, on_the_wire(auth))


def test_v5_split_connect_query_in_namespace() -> None:
    assert V5().split_connect(Packet(C, "/chat?t=1", {"token": "abc"})) == (
        "/chat", {"t": "1"}, {"token": "abc"})


@given(NAMESPACES.filter(lambda ns: "?" not in ns),
       st.dictionaries(st.text(st.characters(codec="ascii", categories=["L", "N"]),
                               min_size=1, max_size=8),
                       st.text(max_size=8), max_size=4))
def test_v4_split_connect_urlencoded_query(namespace: str, query: dict) -> None:
    text = "0" + namespace + "?" + urlencode(query) + ","
    packet = Decoder().feed(text)
    assert V4().split_connect(packet) == (namespace, query, None)


@given(NAMESPACES.filter(lambda ns: "?" not in ns),
       st.dictionaries(TEXT, JSON_SCALARS, max_size=4))
def test_v5_split_connect_auth_round_trip(namespace: str, auth: dict) -> None:
    packet = Decoder().feed(encode(Packet(C, namespace, auth)).text)
    assert V5().split_connect(packet) == (namespace, {}, on_the_wire(auth))
