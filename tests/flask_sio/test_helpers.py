"""Helpers inside handlers and the extension's emit/send outside them."""
from __future__ import annotations

import pytest
from flask import Flask, request, session

from flask_sio import SocketIO, disconnect, emit, join_room, send


def test_skip_sid_leaves_sockets_out_of_a_broadcast(app: Flask) -> None:
    sio = SocketIO(app)

    @sio.on("skip")
    def skip(sids):
        emit("news", "n", broadcast=True, skip_sid=sids)

    a, b, c = sio.test_client(app), sio.test_client(app), sio.test_client(app)
    a.emit("skip", b.sid)
    assert [e["args"] for e in a.get_received()] == [["n"]]
    assert b.get_received() == []
    assert [e["args"] for e in c.get_received()] == [["n"]]
    a.emit("skip", [a.sid, c.sid])
    assert (a.get_received(), c.get_received()) == ([], [])
    assert [e["args"] for e in b.get_received()] == [["n"]]


def test_emit_callback_inside_a_handler_runs_in_its_context(app: Flask) -> None:
    sio = SocketIO(app)
    acks: list = []

    @sio.on("start")
    def start():
        session["who"] = "ann"
        emit("question", 20, callback=lambda answer: acks.append(
            (answer, request.sid, request.namespace, session.get("who"))))

    client = sio.test_client(app)
    client.on("question", lambda n: n + 1)
    client.emit("start")
    assert acks == [(21, client.sid, "/", "ann")]


def test_send_json_and_disconnect_silent_inside_handlers(app: Flask) -> None:
    sio = SocketIO(app)
    sio.on_event("as-json", lambda: send({"a": 1}, json=True))
    sio.on_event("as-message", lambda: send({"a": 1}))
    sio.on_event("leave", lambda: disconnect(silent=True))
    client = sio.test_client(app)
    client.emit("as-json")
    client.emit("as-message")
    assert client.get_received() == [{"name": "json", "args": {"a": 1}, "namespace": "/"},
                                     {"name": "message", "args": {"a": 1}, "namespace": "/"}]
    client.emit("leave")
    assert client.is_connected() is False


def test_send_outside_handlers(app: Flask) -> None:
    sio = SocketIO(app)
    a, b = sio.test_client(app), sio.test_client(app)
    with app.app_context():
        sio.send("to all")
        sio.send({"k": "v"}, json=True, to=b.sid)
    assert a.get_received() == [{"name": "message", "args": "to all", "namespace": "/"}]
    assert b.get_received() == [{"name": "message", "args": "to all", "namespace": "/"},
                                {"name": "json", "args": {"k": "v"}, "namespace": "/"}]


@pytest.mark.parametrize("broadcast", [True, False])
def test_server_level_emit_ignores_broadcast(app: Flask, broadcast: bool) -> None:
    sio = SocketIO(app)
    a, b = sio.test_client(app), sio.test_client(app)
    sio.emit("all", 1, broadcast=broadcast)
    sio.emit("local", 2, ignore_queue=True)
    expected = [{"name": "all", "args": [1], "namespace": "/"},
                {"name": "local", "args": [2], "namespace": "/"}]
    assert (a.get_received(), b.get_received()) == (expected, expected)


def test_emit_to_one_sid_with_callback_outside_handlers(app: Flask) -> None:
    sio = SocketIO(app)
    a, b = sio.test_client(app), sio.test_client(app)
    a.on("ask", lambda x: x * 2)
    acks: list = []
    sio.emit("ask", 5, to=a.sid, callback=lambda *values: acks.append(values))
    a.get_received()  # lets the in-memory client answer
    assert acks == [(10,)]
    assert b.get_received() == []
    with pytest.raises(ValueError, match="callbacks need a single recipient"):
        sio.emit("ask", 5, callback=print)


def test_test_client_send(app: Flask) -> None:
    sio = SocketIO(app)
    sio.on_event("message", lambda data: ("message", data))
    sio.on_event("json", lambda data: ("json", data))
    client = sio.test_client(app)
    assert client.send("text", callback=True) == ["message", "text"]
    assert client.send({"x": 1}, json=True, callback=True) == ["json", {"x": 1}]


def test_emit_inside_a_handler_with_keywords_goes_the_full_way(app: Flask) -> None:
    """The sender's shortest path is for ``emit(event, *args)`` alone: ``to``/``room``,
    ``broadcast`` with ``include_self``, ``namespace`` and ``callback`` still count."""
    sio = SocketIO(app)
    acks: list = []

    @sio.on("variant")
    def variant(kind):
        if kind == "plain":
            emit("got", (1, 2))  # a lone tuple: two arguments
        elif kind == "list":
            emit("got", [1, 2])  # a list: one argument
        elif kind == "room":
            emit("got", "room", to="r")
        elif kind == "old-room":
            emit("got", "old-room", room="r")
        elif kind == "others":
            emit("got", "others", broadcast=True, include_self=False)
        elif kind == "other-namespace":
            emit("got", "other-namespace", namespace="/other")
        elif kind == "callback":
            emit("got", "callback", callback=lambda answer: acks.append(answer))

    sio.on_event("join", lambda: join_room("r"))
    sio.on_event("connect", lambda: None, namespace="/other")
    a, b = sio.test_client(app), sio.test_client(app)
    b.emit("join")
    a.connect("/other")
    b.on("got", lambda *args: "answered")
    a.on("got", lambda *args: "answered")

    a.emit("variant", "plain")
    a.emit("variant", "list")
    assert [e["args"] for e in a.get_received()] == [[1, 2], [[1, 2]]]
    for kind in ("room", "old-room", "others"):
        a.emit("variant", kind)
        assert (a.get_received(), [e["args"] for e in b.get_received()]) == ([], [[kind]])
    a.emit("variant", "other-namespace")  # the sender's sid of "/" is none in "/other"
    assert (a.get_received(), a.get_received("/other"), b.get_received()) == ([], [], [])
    a.emit("variant", "callback")
    assert acks == ["answered"]


def test_emit_helper_outside_a_socketio_handler_is_an_error(app: Flask) -> None:
    SocketIO(app)
    with app.test_request_context("/"), pytest.raises(RuntimeError):
        emit("news", 1)
