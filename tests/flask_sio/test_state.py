"""flask_sio's per-app state: found with state_of, plain (no forwarding), one dispatcher per
app over the handlers of the one extension."""
from __future__ import annotations

import flask
import pytest
from flask import Flask, request

from flask_sio import SocketIO
from flask_sio.dispatch import Dispatcher
from flask_sio.state import State, state_of


def test_state_of_finds_the_apps_state(app: Flask) -> None:
    sio = SocketIO(app)
    state = state_of(app, sio)
    assert state is app.extensions["socketio"]
    assert state_of(app) is state
    assert (state.extension, state.app) == (sio, app)
    assert state.server is sio.server
    assert isinstance(state.dispatcher, Dispatcher)
    assert state.dispatcher.server is state.server


def test_state_of_refuses_an_app_without_it_or_with_another_extension(app: Flask) -> None:
    with pytest.raises(RuntimeError):
        state_of(app)
    SocketIO(app)
    with pytest.raises(RuntimeError):
        state_of(app, SocketIO())


def test_state_of_refuses_a_write_only_app(app: Flask) -> None:
    SocketIO(app, message_queue="redis://127.0.0.1:1/0", write_only=True)
    with pytest.raises(RuntimeError):
        state_of(app)


def test_the_state_forwards_only_the_runtime_methods_by_name(app: Flask) -> None:
    """Flask-SocketIO code reaches the extension's emit, send, call, close_room,
    start_background_task and sleep through ``app.extensions["socketio"]``; nothing else
    is forwarded."""
    SocketIO(app)
    state = app.extensions["socketio"]
    assert isinstance(state, State)
    for name in ("on_event", "run", "test_client", "anything"):
        with pytest.raises(AttributeError):
            getattr(state, name)


def test_background_task_and_sleep_through_current_app_extensions(app: Flask) -> None:
    SocketIO(app)
    seen = []
    with app.app_context():
        ext = flask.current_app.extensions["socketio"]
        task = ext.start_background_task(seen.append, "ran")
        ext.sleep(0)
        task.join(timeout=5)
    assert seen == ["ran"]


def test_current_app_extensions_send_keeps_working(app: Flask) -> None:
    sio = SocketIO(app)
    client = sio.test_client(app)
    with app.app_context():
        flask.current_app.extensions["socketio"].send("hello")
    assert client.get_received() == [{"name": "message", "args": "hello", "namespace": "/"}]


def test_one_extension_serves_two_apps_with_the_same_handlers(app: Flask) -> None:
    other = Flask("other")
    other.config["SECRET_KEY"] = "other"
    sio = SocketIO()
    sio.on_event("which", lambda: flask.current_app.name)
    sio.init_app(app)
    sio.init_app(other)
    sio.on_event("sid", lambda: request.sid, namespace="/late")  # type: ignore[attr-defined]
    first, second = sio.test_client(app), sio.test_client(other)
    assert first.emit("which", callback=True) == app.name
    assert second.emit("which", callback=True) == "other"
    for client, flask_app in ((first, app), (second, other)):
        client.connect("/late")
        sid = client.emit("sid", namespace="/late", callback=True)
        assert sid in state_of(flask_app, sio).server.of("/late").connected
    assert state_of(app, sio).dispatcher is not state_of(other, sio).dispatcher


def test_manage_session_set_on_the_extension_reaches_every_dispatcher(app: Flask) -> None:
    other = Flask("other")
    sio = SocketIO()
    sio.init_app(app)
    sio.init_app(other)
    sio.manage_session = False
    assert [state_of(a).dispatcher.manage_session for a in (app, other)] == [False, False]
    with app.app_context():
        assert sio.manage_session is False
