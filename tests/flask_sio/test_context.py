"""The Flask contexts handlers run in: what is made once per socket, what is new per event."""
from __future__ import annotations

from typing import Any, List

from flask import Flask, g, request, session, url_for

from flask_sio import SocketIO, call
from flask_sio import context as flask_context


def test_each_event_gets_a_fresh_g_request_copy_and_teardowns(app: Flask) -> None:
    sio = SocketIO(app)
    torn: List[Any] = []
    seen: List[Any] = []
    app.add_url_rule("/room/<name>", "room", lambda name: name)
    app.teardown_request(lambda exc: torn.append(("request", exc)))
    app.teardown_appcontext(lambda exc: torn.append(("app", exc)))

    @sio.on("look")
    def look(n):
        seen.append((getattr(g, "mark", None), getattr(request, "mark", None),
                     request.event, request.sid, url_for("room", name="x")))
        g.mark = request.mark = n
        session["n"] = n

    client = sio.test_client(app)
    client.emit("look", 1)
    client.emit("look", 2)
    # nothing a handler set on g or on request reaches the next event; the session stays
    assert seen == [(None, None, {"message": "look", "args": (1,)}, client.sid, "/room/x"),
                    (None, None, {"message": "look", "args": (2,)}, client.sid, "/room/x")]
    # both teardowns ran once per event, after the once of opening the socket's session
    assert torn == [("request", None), ("app", None)] * 3


def test_a_callback_run_inside_its_handler_gets_a_context_of_its_own(app: Flask) -> None:
    sio = SocketIO(app)
    seen: List[Any] = []

    def callback(value):
        seen.append(("callback", value, request.sid, request.event, getattr(g, "mark", None),
                     getattr(request, "mark", None)))
        request.mark = "callback"

    @sio.on("start")
    def start():
        g.mark = request.mark = "handler"
        # the socket's reusable context is pushed: the nested call gets another one (in
        # the same app context, as Flask nests request contexts: g is shared)
        flask_context.in_handler_context(callback)(1)
        seen.append(("handler", call("second", timeout=5), request.sid, request.event,
                     g.mark, request.mark))

    client = sio.test_client(app)
    client.on("second", lambda: 2)
    client.emit("start")
    client.emit("start")  # the reusable context was handed back after the first
    expected = [("callback", 1, client.sid, {"message": "callback", "args": (1,)}, "handler",
                 None),
                ("handler", 2, client.sid, {"message": "start", "args": ()}, "handler",
                 "handler")]
    assert seen == expected * 2


def test_a_socket_context_lives_until_the_disconnect_handler_ran(app: Flask) -> None:
    sio = SocketIO(app)
    during: List[bool] = []
    sio.on_event("ping", lambda: None)

    @sio.on("disconnect")
    def gone(*_reason):
        during.append(request.sio_socket in flask_context._contexts)

    client = sio.test_client(app)
    client.emit("ping")
    socket = sio.server.of("/").connected[client.sid]
    assert socket in flask_context._contexts
    client.disconnect()
    assert during == [True]
    assert socket not in flask_context._contexts


def test_a_refused_connection_keeps_no_context(app: Flask) -> None:
    sio = SocketIO(app)
    refused: List[Any] = []

    @sio.on("connect")
    def connect(auth=None):
        refused.append(request.sio_socket)
        return False

    client = sio.test_client(app)
    assert client.is_connected() is False
    assert refused and refused[0] not in flask_context._contexts


def test_a_socket_context_keeps_no_frames_of_its_first_event(app: Flask) -> None:
    sio = SocketIO(app)
    sio.on_event("ping", lambda: None)
    client = sio.test_client(app)
    client.emit("ping")
    socket = sio.server.of("/").connected[client.sid]
    missed = flask_context._contexts[socket].request.routing_exception
    # the Socket.IO path matches no route; the NotFound stays, not the stack it was raised in
    assert type(missed).__name__ == "NotFound"
    assert (missed.__traceback__, missed.__context__) == (None, None)
