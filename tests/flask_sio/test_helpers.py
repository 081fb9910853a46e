"""Helpers inside handlers and the extension's emit/send outside them."""
from __future__ import annotations

import pytest
from flask import Flask, request, session

from flask_sio import SocketIO, disconnect, emit, send


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
