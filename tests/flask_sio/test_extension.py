"""flask_sio through its test client: handlers, context, helpers, acks, refusal, errors."""
from __future__ import annotations

import flask
import pytest
from flask import Flask, g, request, session

from flask_sio import (
    ConnectionRefusedError,
    Namespace,
    SocketIO,
    call,
    close_room,
    disconnect,
    emit,
    join_room,
    leave_room,
    rooms,
    send,
)


def test_init_app_registers_state_and_refuses_twice(app: Flask) -> None:
    sio = SocketIO()
    sio.init_app(app)
    assert app.extensions["socketio"].extension is sio
    with pytest.raises(RuntimeError):
        SocketIO(app)


def test_config_keys_are_read(app: Flask) -> None:
    app.config["SOCKETIO_PING_INTERVAL"] = 7
    app.config["SOCKETIO_PATH"] = "ws"
    sio = SocketIO(app, ping_timeout=3)
    server = sio.server
    assert server.engine.options.ping_interval == 7
    assert server.engine.options.ping_timeout == 3
    assert server.path() == "/ws"


def test_unknown_option_is_an_error(app: Flask) -> None:
    with pytest.raises(TypeError):
        SocketIO(app, bogus=1)
    with pytest.raises(ValueError):
        SocketIO(Flask("other"), async_mode="threading")


def test_event_handler_return_value_is_the_ack(app: Flask) -> None:
    sio = SocketIO(app)

    @sio.on("add")
    def add(a, b):
        return a + b

    @sio.event
    def pair(x):
        return x, x * 2

    client = sio.test_client(app)
    assert client.emit("add", 2, 3, callback=True) == 5
    assert client.emit("pair", 4, callback=True) == [4, 8]  # several values: a list


def test_request_context_sid_namespace_event_and_g(app: Flask) -> None:
    sio = SocketIO(app)
    seen = []

    @sio.on("probe", namespace="/ns")
    def probe(data):
        assert not hasattr(g, "marker")
        g.marker = data
        seen.append((request.sid, request.namespace, request.event["message"],
                     flask.current_app.name))
        return request.sid

    client = sio.test_client(app, namespace="/ns")
    sid = client.emit("probe", 1, callback=True, namespace="/ns")
    client.emit("probe", 2, namespace="/ns")
    assert seen == [(sid, "/ns", "probe", app.name)] * 2


def test_session_of_the_http_client_carries_over_and_persists_per_connection(app: Flask) -> None:
    sio = SocketIO(app)

    @app.route("/login")
    def login():
        session["user"] = "ann"
        return "ok"

    @sio.on("whoami")
    def whoami():
        session["count"] = session.get("count", 0) + 1
        return session.get("user"), session["count"]

    http = app.test_client()
    http.get("/login")
    client = sio.test_client(app, flask_test_client=http)
    assert client.emit("whoami", callback=True) == ["ann", 1]
    assert client.emit("whoami", callback=True) == ["ann", 2]
    other = sio.test_client(app)
    assert other.emit("whoami", callback=True) == [None, 1]


def test_connect_handler_gets_auth_and_may_refuse(app: Flask) -> None:
    sio = SocketIO(app)

    @sio.on("connect")
    def connect(auth):
        if not auth or auth.get("token") != "ok":
            raise ConnectionRefusedError("bad token", {"hint": "ok"})
        emit("welcome", auth["token"])

    good = sio.test_client(app, auth={"token": "ok"})
    assert good.is_connected() is True
    assert good.get_received() == [{"name": "welcome", "args": ["ok"], "namespace": "/"}]
    bad = sio.test_client(app, auth={"token": "no"})
    assert bad.is_connected() is False
    assert bad.connect_error == {"message": "bad token", "data": {"hint": "ok"}}


def test_connect_returning_false_refuses(app: Flask) -> None:
    sio = SocketIO(app)
    sio.on_event("connect", lambda: False)
    client = sio.test_client(app)
    assert client.is_connected() is False
    assert client.connect_error == {"message": "Connection rejected by server"}


def test_disconnect_handler_receives_reason(app: Flask) -> None:
    sio = SocketIO(app)
    reasons = []
    sio.on_event("disconnect", lambda reason: reasons.append(reason))
    client = sio.test_client(app)
    client.disconnect()
    assert reasons == ["client namespace disconnect"]


def test_disconnect_handler_without_arguments_still_works(app: Flask) -> None:
    sio = SocketIO(app)
    calls = []
    sio.on_event("disconnect", lambda: calls.append(True))
    sio.test_client(app).disconnect()
    assert calls == [True]


def test_catch_all_handler(app: Flask) -> None:
    sio = SocketIO(app)
    sio.on_event("known", lambda: "known")
    sio.on_event("*", lambda event, *args: [event, *args])
    client = sio.test_client(app)
    assert client.emit("known", callback=True) == "known"
    assert client.emit("other", 1, 2, callback=True) == ["other", 1, 2]


def test_error_handlers(app: Flask) -> None:
    sio = SocketIO(app)
    errors = []

    @sio.on("boom")
    def boom():
        raise KeyError("x")

    @sio.on("boom", namespace="/other")
    def boom_other():
        raise ValueError("y")

    @sio.on_error()
    def on_error(exc):
        errors.append(("/", type(exc).__name__, request.event["message"]))
        return "handled"

    @sio.on_error_default
    def default(exc):
        errors.append(("default", type(exc).__name__))

    client = sio.test_client(app)
    assert client.emit("boom", callback=True) == "handled"
    client.connect("/other")
    client.emit("boom", namespace="/other")
    assert errors == [("/", "KeyError", "boom"), ("default", "ValueError")]


def test_emit_send_rooms_and_broadcast_helpers(app: Flask) -> None:
    sio = SocketIO(app)

    @sio.on("join")
    def on_join(room):
        join_room(room)
        return rooms()

    @sio.on("leave")
    def on_leave(room):
        leave_room(room)
        return rooms()

    @sio.on("shout")
    def on_shout(room, text):
        emit("said", text, to=room)

    @sio.on("others")
    def on_others(text):
        emit("said", text, broadcast=True, include_self=False)

    @sio.on("me")
    def on_me(text):
        send(text)

    @sio.on("close")
    def on_close(room):
        close_room(room)

    a = sio.test_client(app)
    b = sio.test_client(app)
    c = sio.test_client(app)
    assert a.emit("join", "r", callback=True) == sorted([a.sid, "r"])
    b.emit("join", "r")
    a.emit("shout", "r", "hi")
    assert a.get_received() == [{"name": "said", "args": ["hi"], "namespace": "/"}]
    assert b.get_received() == [{"name": "said", "args": ["hi"], "namespace": "/"}]
    assert c.get_received() == []
    a.emit("others", "yo")
    assert a.get_received() == []
    assert [e["args"] for e in b.get_received()] == [["yo"]]
    assert [e["args"] for e in c.get_received()] == [["yo"]]
    c.emit("me", "only me")
    assert c.get_received() == [{"name": "message", "args": "only me", "namespace": "/"}]
    assert b.get_received() == []
    assert a.emit("leave", "r", callback=True) == [a.sid]
    a.emit("close", "r")
    a.emit("shout", "r", "gone")
    assert b.get_received() == []


def test_server_side_emit_call_and_disconnect(app: Flask) -> None:
    sio = SocketIO(app)
    answers = []

    @sio.on("ask-me")
    def ask_me():
        answers.append(call("question", 1, timeout=2))

    @sio.on("kick")
    def kick():
        disconnect()

    client = sio.test_client(app)
    client.on("question", lambda n: n + 41)
    client.emit("ask-me")
    assert answers == [42]
    assert client.get_received() == [{"name": "question", "args": [1], "namespace": "/"}]
    with app.app_context():
        sio.emit("news", {"x": 1})
    assert client.get_received() == [{"name": "news", "args": [{"x": 1}], "namespace": "/"}]
    assert sio.call("question", 9, to=client.sid, timeout=2) == 50
    client.emit("kick")
    assert client.is_connected() is False


def test_emit_from_an_http_view_reaches_clients(app: Flask) -> None:
    sio = SocketIO(app)

    @app.route("/notify")
    def notify():
        sio.emit("note", "from view")
        return "sent"

    client = sio.test_client(app)
    assert app.test_client().get("/notify").data == b"sent"
    assert client.get_received() == [{"name": "note", "args": ["from view"], "namespace": "/"}]


def test_class_based_namespace(app: Flask) -> None:
    sio = SocketIO(app)
    events = []

    class Chat(Namespace):
        def on_connect(self):
            events.append("connect")

        def on_say(self, text):
            self.emit("said", text)
            return text.upper()

        def on_disconnect(self, reason):
            events.append(reason)

    sio.on_namespace(Chat("/chat"))
    client = sio.test_client(app, namespace="/chat")
    assert client.emit("say", "hi", callback=True, namespace="/chat") == "HI"
    assert client.get_received("/chat") == [
        {"name": "said", "args": ["hi"], "namespace": "/chat"}]
    client.disconnect("/chat")
    assert events == ["connect", "client namespace disconnect"]


def test_background_task_and_sleep(app: Flask) -> None:
    sio = SocketIO(app)
    client = sio.test_client(app)
    done = []

    def task(n):
        sio.sleep(0.01)
        sio.emit("tick", n)
        done.append(n)

    sio.start_background_task(task, 3).join(timeout=2)
    assert done == [3]
    assert client.get_received() == [{"name": "tick", "args": [3], "namespace": "/"}]


def test_query_string_and_headers_reach_the_request(app: Flask) -> None:
    sio = SocketIO(app)
    sio.on_event("info", lambda: (request.args.get("room"), request.headers.get("X-Test")))
    client = sio.test_client(app, query_string="room=5", headers={"X-Test": "yes"})
    assert client.emit("info", callback=True) == ["5", "yes"]


def test_current_app_extensions_emit_keeps_working(app: Flask) -> None:
    sio = SocketIO(app)
    client = sio.test_client(app)
    with app.app_context():
        flask.current_app.extensions["socketio"].emit("compat", 1)
    assert client.get_received() == [{"name": "compat", "args": [1], "namespace": "/"}]
