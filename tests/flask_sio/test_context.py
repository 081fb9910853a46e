"""The Flask contexts handlers run in: what is made once per socket, what is new per event."""
from __future__ import annotations

from typing import Any, List

import pytest
from flask import Flask, Request, g, has_app_context, request, session, signals, url_for

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


def test_flask_context_signals_are_sent_once_per_event(app: Flask) -> None:
    sio = SocketIO(app)
    sent: List[str] = []
    sio.on_event("ping", lambda: sent.append("handler"))
    client = sio.test_client(app)
    client.emit("ping")  # the first event opens the socket's session in a context of its own
    sent.clear()
    receivers = {name: (lambda sender, name=name, **extra: sent.append(name))
                 for name in ("appcontext_pushed", "request_tearing_down",
                              "appcontext_tearing_down", "appcontext_popped")}
    for name, receiver in receivers.items():  # connected after the socket's first event
        getattr(signals, name).connect(receiver, app)
    try:
        client.emit("ping")
        client.emit("ping")
    finally:
        for name, receiver in receivers.items():
            getattr(signals, name).disconnect(receiver, app)
    once = ["appcontext_pushed", "handler", "request_tearing_down", "appcontext_tearing_down",
            "appcontext_popped"]
    assert sent == once * 2


def test_teardowns_registered_after_the_first_event_run_for_the_next(app: Flask) -> None:
    sio = SocketIO(app)
    torn: List[Any] = []
    sio.on_event("ping", lambda: None)
    client = sio.test_client(app)
    client.emit("ping")
    app.teardown_request(lambda exc: torn.append("request"))
    app.teardown_appcontext(lambda exc: torn.append("app"))
    client.emit("ping")
    assert torn == ["request", "app"]


def test_teardowns_get_the_exception_a_handler_let_escape(app: Flask) -> None:
    sio = SocketIO(app)
    torn: List[Any] = []
    app.teardown_request(lambda exc: torn.append(("request", exc)))
    app.teardown_appcontext(lambda exc: torn.append(("app", exc)))
    failure = ValueError("boom")

    @sio.on("fail")
    def fail():
        raise failure

    sio.on_event("ping", lambda: None)
    client = sio.test_client(app)
    client.emit("ping")  # opens the socket's session
    torn.clear()
    with pytest.raises(ValueError):
        client.emit("fail")
    assert torn == [("request", failure), ("app", failure)]
    assert not has_app_context()  # nothing left pushed


def test_session_changes_persist_across_events_and_g_does_not(app: Flask) -> None:
    sio = SocketIO(app)

    @sio.on("count")
    def count():
        session["n"] = session.get("n", 0) + 1
        g.n = getattr(g, "n", 0) + 1
        return session["n"], g.n

    client = sio.test_client(app)
    assert [client.emit("count", callback=True) for _ in range(3)] == [[1, 1], [2, 1], [3, 1]]


class _ClosingRequest(Request):
    closed: List[str] = []

    def close(self) -> None:
        event = getattr(self, "event", None)  # none: the context that opened the session
        self.closed.append(event["message"] if event else "session")
        super().close()


def test_a_request_class_with_its_own_close_is_closed_after_each_event(app: Flask) -> None:
    app.request_class = _ClosingRequest
    sio = SocketIO(app)
    sio.on_event("ping", lambda: None)
    client = sio.test_client(app)
    client.emit("ping")
    client.emit("ping")
    assert _ClosingRequest.closed == ["session", "ping", "ping"]


def test_the_error_handler_runs_in_the_failed_handlers_context(app: Flask) -> None:
    sio = SocketIO(app)
    torn: List[Any] = []
    seen: List[Any] = []
    sio.on_event("ping", lambda: None)

    @sio.on("fail")
    def fail(n):
        g.mark = request.mark = n
        raise ValueError(n)

    @sio.on_error_default
    def on_error(exc):
        seen.append((str(exc), g.mark, request.mark, request.event["message"]))
        return "handled"

    client = sio.test_client(app)
    client.emit("ping")  # opens the socket's session
    app.teardown_request(lambda exc: torn.append(("request", exc)))
    app.teardown_appcontext(lambda exc: torn.append(("app", exc)))
    # as in Flask-SocketIO: one context, its teardowns see the exception handled
    assert client.emit("fail", 7, callback=True) == "handled"
    assert seen == [("7", 7, 7, "fail")]
    assert torn == [("request", None), ("app", None)]


def test_a_signal_without_blinker_counts_as_one_without_receivers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Flask < 2.3 without blinker has signals that only take send(); this Flask requires
    # blinker, so one of that shape stands in
    class SendOnly:
        def send(self, *args: Any, **kwargs: Any) -> None:
            raise AssertionError("not sent to when nothing can listen")

    monkeypatch.setattr(signals, "appcontext_pushed", SendOnly())
    assert not flask_context._signal("appcontext_pushed").receivers
    assert flask_context._signal("appcontext_popped") is signals.appcontext_popped
