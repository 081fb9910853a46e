"""What a Flask-SocketIO application's own tests rely on, through the public API.

Each test pins one behaviour that running Flask-SocketIO's test suite against
flask_sio (import changed, see docs/conformance.md) showed to differ.
"""
from __future__ import annotations

import json
import logging
from logging.handlers import BufferingHandler
from typing import Any, List

import pytest
from flask import Flask, request, session

from flask_sio import SocketIO, disconnect, emit, send
from flask_sio.config import ENGINEIO_LOGGERS, SOCKETIO_LOGGERS


class Unencodable:
    """A value JSON cannot carry."""


# -- get_received and acks --------------------------------------------------------------


def test_get_received_gives_a_sent_message_as_its_value(app: Flask) -> None:
    sio = SocketIO(app)
    sio.on_event("echo-text", lambda text: send(text))
    sio.on_event("echo-json", lambda data: send(data, json=True))
    sio.on_event("echo-emit", lambda data: emit("reply", data))
    client = sio.test_client(app)
    client.emit("echo-text", "plain words")
    client.emit("echo-json", {"k": [1, 2]})
    client.emit("echo-emit", {"k": 3})
    received = client.get_received()
    assert [(e["name"], e["args"]) for e in received] == [
        ("message", "plain words"), ("json", {"k": [1, 2]}), ("reply", [{"k": 3}])]


def test_acks_come_back_as_one_value_a_list_or_none(app: Flask) -> None:
    sio = SocketIO(app)
    sio.on_event("one", lambda: "a")
    sio.on_event("two", lambda: ("a", "b"))
    sio.on_event("nothing", lambda: None)
    client = sio.test_client(app)
    assert client.emit("one", callback=True) == "a"
    assert client.emit("two", callback=True) == ["a", "b"]
    assert client.emit("nothing", callback=True) == []  # acked without values
    assert client.emit("unhandled", callback=True) is None  # never acked
    assert client.emit("one") is None  # no ack asked for


def test_request_event_holds_the_arguments_as_a_tuple(app: Flask) -> None:
    sio = SocketIO(app)
    seen: List[Any] = []
    sio.on_event("look", lambda *args: seen.append(dict(request.event)))
    sio.test_client(app).emit("look", "x", {"y": 1})
    assert seen == [{"message": "look", "args": ("x", {"y": 1})}]


def test_a_lone_tuple_is_emitted_as_several_arguments(app: Flask) -> None:
    sio = SocketIO(app)
    sio.on_event("from-handler", lambda: emit("pair", (1, "two")))
    client = sio.test_client(app)
    client.emit("from-handler")
    with app.app_context():
        sio.emit("pair", ("three", 4))
        sio.emit("nested", ((5, 6),))  # only the outer tuple is unpacked
    assert [e["args"] for e in client.get_received()] == [[1, "two"], ["three", 4], [[5, 6]]]


# -- catch-all events and namespaces ----------------------------------------------------


def test_catch_all_event_handler_gets_the_event_name_first(app: Flask) -> None:
    sio = SocketIO(app)
    sio.on_event("known", lambda value: emit("got", "known", value))
    sio.on_event("*", lambda event, *values: emit("got", (event, *values)))
    client = sio.test_client(app)
    client.emit("surprise", {"n": 1}, 2)
    client.emit("known", 3)
    assert [e["args"] for e in client.get_received()] == [
        ["surprise", {"n": 1}, 2], ["known", 3]]


def test_catch_all_namespace_serves_namespaces_without_their_own_handler(app: Flask) -> None:
    sio = SocketIO(app)
    sio.on_event("ping", lambda: emit("pong", "own handler"), namespace="/own")
    sio.on_event("ping", lambda: emit("pong", "caught in " + request.namespace),
                 namespace="*")
    sio.on_event("connect", lambda: send("welcome to " + request.namespace), namespace="*")
    client = sio.test_client(app, namespace="/anything")
    assert client.is_connected("/anything")
    client.connect("/own")
    client.emit("ping", namespace="/anything")
    client.emit("ping", namespace="/own")
    assert [e["args"] for e in client.get_received("/anything")] == [
        "welcome to /anything", ["caught in /anything"]]
    assert [e["args"] for e in client.get_received("/own")] == [
        "welcome to /own", ["own handler"]]


def test_catch_all_namespace_handlers_run_when_namespaces_star_is_given(app: Flask) -> None:
    sio = SocketIO(app, namespaces="*")
    sio.on_event("where", lambda: request.namespace, namespace="*")
    client = sio.test_client(app, namespace="/dyn")
    assert client.emit("where", namespace="/dyn", callback=True) == "/dyn"


# -- errors raised in the test ----------------------------------------------------------


def test_unencodable_values_raise_type_error_in_the_test(app: Flask) -> None:
    sio = SocketIO(app)
    sio.on_event("bad-emit", lambda: emit("out", {"v": Unencodable()}))
    sio.on_event("bad-ack", lambda: {"v": Unencodable()})
    sio.on_event("fine", lambda: "ok")
    client = sio.test_client(app)
    with pytest.raises(TypeError):
        client.emit("fine", Unencodable())
    with pytest.raises(TypeError):
        client.emit("bad-emit")
    with pytest.raises(TypeError):
        client.emit("bad-ack", callback=True)
    assert client.get_received() == []
    assert client.emit("fine", callback=True) == "ok"  # the connection carries on


def test_a_handler_exception_without_error_handler_reaches_the_test(app: Flask) -> None:
    sio = SocketIO(app)

    @sio.on("connect", namespace="/broken")
    def broken_connect() -> None:
        raise LookupError("no such thing")

    @sio.on("fail")
    def fail() -> None:
        raise ValueError("handler failed")

    client = sio.test_client(app)
    with pytest.raises(ValueError, match="handler failed"):
        client.emit("fail")
    with pytest.raises(LookupError):
        client.connect("/broken")
    assert client.is_connected("/broken") is False
    with pytest.raises(LookupError):
        sio.test_client(app, namespace="/broken")


def test_a_client_the_server_disconnected_cannot_emit(app: Flask) -> None:
    sio = SocketIO(app)
    sio.on_event("leave", lambda: disconnect())
    client = sio.test_client(app)
    other = sio.test_client(app)
    client.emit("leave")
    assert client.is_connected() is False
    assert other.is_connected() is True
    with pytest.raises(RuntimeError):
        client.emit("anything")
    with pytest.raises(RuntimeError):
        client.send("text")
    with pytest.raises(RuntimeError):
        client.get_received()
    with pytest.raises(RuntimeError):
        client.disconnect()
    with pytest.raises(RuntimeError):
        other.emit("x", namespace="/never-joined")


# -- the test client's other attributes and keywords ----------------------------------


def test_eio_sid_names_each_connection(app: Flask) -> None:
    sio = SocketIO(app)
    sio.on_event("engine-sid", lambda: sio.server.of("/").connected[request.sid].conn.sid)
    first, second = sio.test_client(app), sio.test_client(app)
    assert first.eio_sid != second.eio_sid
    assert first.emit("engine-sid", callback=True) == first.eio_sid


def test_client_emit_accepts_server_side_keywords_and_reaches_the_server_only(
        app: Flask) -> None:
    sio = SocketIO(app)
    runs: List[str] = []
    sio.on_event("note", lambda text: runs.append(text))
    sender, bystander = sio.test_client(app), sio.test_client(app)
    sender.emit("note", "once", broadcast=True, include_self=False, to="room")
    assert runs == ["once"]
    assert bystander.get_received() == []


def test_request_args_hold_the_application_query_only(app: Flask) -> None:
    sio = SocketIO(app)
    sio.on_event("args", lambda: json.dumps(request.args.to_dict(flat=False)))
    assert sio.test_client(app).emit("args", callback=True) == "{}"
    client = sio.test_client(app, query_string="?a=1&a=2")
    assert client.emit("args", callback=True) == '{"a": ["1", "2"]}'


def test_manage_session_can_be_switched_at_run_time(app: Flask) -> None:
    sio = SocketIO(app)

    @sio.on("count")
    def count() -> int:
        session["n"] = session.get("n", 0) + 1
        return session["n"]

    assert sio.manage_session is True
    client = sio.test_client(app)
    assert [client.emit("count", callback=True) for _ in range(2)] == [1, 2]
    sio.manage_session = False  # Flask's cookie session: frozen at connection time
    assert sio.manage_session is False
    assert [client.emit("count", callback=True) for _ in range(2)] == [1, 1]


def test_async_mode_is_gevent_and_an_index_view_can_show_it(app: Flask) -> None:
    sio = SocketIO(app)
    app.add_url_rule("/", "index", lambda: "async_mode=" + sio.async_mode)
    assert SocketIO.async_mode == "gevent"
    response = app.test_client().get("/")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "async_mode=gevent")


# -- logger and engineio_logger ---------------------------------------------------------


def open_and_break_a_polling_session(app: Flask) -> None:
    """An Engine.IO session over polling that the client then sends garbage on."""
    http = app.test_client()
    opened = http.get("/socket.io/?EIO=4&transport=polling")
    sid = json.loads(opened.get_data(as_text=True)[1:])["sid"]
    assert http.post("/socket.io/?EIO=4&transport=polling&sid=" + sid,
                     data=b"\x00garbage").get_data() == b"ok"  # and closed, as engine.io does


def test_given_loggers_receive_each_layer_records(app: Flask, restore_loggers: None,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    sio_log, eio_log = logging.getLogger("test.sio"), logging.getLogger("test.eio")
    sio_kept, eio_kept = BufferingHandler(1000), BufferingHandler(1000)
    for logger, handler in ((sio_log, sio_kept), (eio_log, eio_kept)):
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
        logger.propagate = False
    try:
        sio = SocketIO(app, logger=sio_log, engineio_logger=eio_log)
        sio.on_event("hello", lambda: emit("hi", "there"))
        client = sio.test_client(app)
        sid = client.sid or ""
        client.emit("hello")
        client.disconnect()
        open_and_break_a_polling_session(app)
    finally:
        sio_log.removeHandler(sio_kept)
        eio_log.removeHandler(eio_kept)
    messages = [r.getMessage() for r in sio_kept.buffer if r.levelno == logging.INFO]
    assert sid and "%s connected to /" % sid in messages, messages
    assert "received event 'hello' from %s [/]" % sid in messages, messages
    assert "emitting event 'hi' to %s [/]" % sid in messages, messages
    assert any(m.startswith(sid + " disconnected from /") for m in messages), messages
    assert all(r.name.startswith(("flask_sio", "sio_core")) for r in sio_kept.buffer)
    assert any(r.name.startswith("sio_core.transports") and "malformed payload" in r.getMessage()
               for r in eio_kept.buffer), eio_kept.buffer
    assert not any("malformed payload" in r.getMessage() for r in sio_kept.buffer)
    # the records went to the given loggers (which propagate to their own parents), not
    # also up from the library's loggers to the root a second time
    assert not any(r.name.startswith(("flask_sio", "sio_core")) for r in caplog.records)


def test_logger_true_turns_on_info_for_its_layer_only(app: Flask, restore_loggers: None,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    for name in SOCKETIO_LOGGERS + ENGINEIO_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    assert logging.getLogger().level == logging.WARNING  # as an application that set nothing
    sio = SocketIO(app, logger=True)
    sio.on_event("hello", lambda: None)
    sio.test_client(app).emit("hello")
    open_and_break_a_polling_session(app)
    assert any(r.getMessage().startswith("received event 'hello'") for r in caplog.records)
    assert not any("malformed payload" in r.getMessage() for r in caplog.records)

    caplog.clear()
    SocketIO(Flask("second"), engineio_logger=True)  # the option's effect is process-wide
    open_and_break_a_polling_session(app)
    assert any("malformed payload" in r.getMessage() and r.levelno == logging.INFO
               for r in caplog.records)
