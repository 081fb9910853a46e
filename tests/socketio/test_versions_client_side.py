"""The client side of the protocol policies: the CONNECT a client sends (the inverse of
``split_connect``) and the socket id it learns from the reply."""
from __future__ import annotations

import pytest

from sio_core.socketio import V4, V5, Packet, PacketType, protocol_for

C = PacketType.CONNECT


def test_protocol_4_connects_root_without_asking() -> None:
    assert V4().connect_request("/", {"token": "x"}) is None


@pytest.mark.parametrize("auth,query", [(None, {}), ({}, {}), ({"token": "a b&c"},
                                                             {"token": "a b&c"})])
def test_protocol_4_carries_auth_in_the_namespace_query(auth, query) -> None:
    request = V4().connect_request("/chat", auth)
    assert request is not None and request.type is C and request.data is None
    assert request.namespace == ("/chat" if not query else "/chat?token=a+b%26c")
    assert V4().split_connect(request) == ("/chat", query, None)


@pytest.mark.parametrize("namespace", ["/", "/chat"])
@pytest.mark.parametrize("auth", [None, {"token": "secret"}])
def test_protocol_5_carries_auth_as_the_payload(namespace, auth) -> None:
    request = V5().connect_request(namespace, auth)
    assert request == Packet(C, namespace, auth)
    assert V5().split_connect(request) == (namespace, {}, auth)


@pytest.mark.parametrize("namespace", ["/", "/chat"])
def test_protocol_4_reply_ids_are_the_servers_socket_ids(namespace) -> None:
    v4 = protocol_for(3)
    reply = v4.connect_reply(namespace, "ignored")
    assert v4.reply_socket_id(reply, "ENGINE") == v4.socket_id(namespace, "ENGINE")
    assert v4.reply_socket_id(reply, "ENGINE") == (
        "ENGINE" if namespace == "/" else "/chat#ENGINE")


def test_protocol_5_reply_ids_come_from_the_reply() -> None:
    v5 = protocol_for(4)
    sid = v5.socket_id("/chat", "ENGINE")
    assert v5.reply_socket_id(v5.connect_reply("/chat", sid), "ENGINE") == sid
    # a reply without an id (not from a conforming server): protocol 4's form
    assert v5.reply_socket_id(Packet(C, "/chat", {}), "ENGINE") == "/chat#ENGINE"
    assert v5.reply_socket_id(Packet(C, "/", None), "ENGINE") == "ENGINE"
