"""SocketIO options: SOCKETIO_* config keys and keywords reach the server; Flask-SocketIO's
options are honoured or, where flask_sio cannot, accepted with a warning that names them."""
from __future__ import annotations

import json
import logging
import warnings
from logging.handlers import BufferingHandler
from typing import Any, Callable

import pytest
from flask import Flask, request

from flask_sio import ConnectionRefusedError, SocketIO, emit
from flask_sio.config import IgnoredOptionWarning
from sio_core.adapter.messages import BrokerMessage, MessageType, decode_message
from sio_core.engineio.options import CookieOptions


class Codec:
    """A json module stand-in that counts what it encodes."""

    def __init__(self) -> None:
        self.dumped: list = []

    def dumps(self, value: Any) -> str:
        self.dumped.append(value)
        return json.dumps(value)

    def loads(self, text: str) -> Any:
        return json.loads(text)


CODEC = Codec()


def encoded_through_codec(server: Any) -> list:
    """What CODEC encoded while the server encoded a probe (the server wraps the module's
    functions to follow JavaScript's JSON rules, so they are not compared as such)."""
    CODEC.dumped.clear()
    server.dumps(["probe"])
    return list(CODEC.dumped)

#: (option, value, what to read on the built server, the value read)
OPTIONS = [
    ("origins", ["http://a.test"], lambda s: s.origins(), ["http://a.test"]),
    ("cors_allowed_origins", "http://b.test", lambda s: s.origins(), "http://b.test"),
    ("cors_allowed_origins", [], lambda s: s.origins(), None),
    ("cors_credentials", False, lambda s: s.wsgi_app.origin_policy.credentials, False),
    ("max_http_buffer_size", 1234, lambda s: s.engine.options.max_http_buffer_size, 1234),
    ("cookie", "sid", lambda s: s.engine.options.cookie, CookieOptions(name="sid")),
    ("transports", ["websocket"], lambda s: s.engine.options.transports, ("websocket",)),
    ("serve_client", False, lambda s: s.serve_client(), False),
    ("json", CODEC, lambda s: encoded_through_codec(s), [["probe"]]),
    ("ping_interval", 7, lambda s: s.engine.options.ping_interval, 7),
    ("ping_interval", (9, 2), lambda s: s.engine.options.ping_interval, 9),
    ("ping_timeout", 3, lambda s: s.engine.options.ping_timeout, 3),
    ("path", "ws", lambda s: s.path(), "/ws"),
    ("resource", "/other/", lambda s: s.path(), "/other"),
    ("allow_upgrades", False, lambda s: s.engine.options.allow_upgrades, False),
    ("http_compression", False, lambda s: s.engine.options.http_compression, False),
    ("compression_threshold", 10, lambda s: s.engine.options.compression_threshold, 10),
    ("max_queue", 5, lambda s: s.engine.options.max_queue, 5),
    ("connect_timeout", 2.5, lambda s: s.connect_timeout, 2.5),
    ("connection_state_recovery", {"max_disconnection_duration": 30},
     lambda s: s.recovery.max_disconnection_duration, 30),
    ("per_message_deflate", {"threshold": 512},
     lambda s: s.engine.options.per_message_deflate.threshold, 512),
]
IDS = ["%s=%r" % (name, value) for name, value, _, _ in OPTIONS]


@pytest.mark.parametrize("name, value, read, expected", OPTIONS, ids=IDS)
def test_keyword_reaches_the_server(app: Flask, name: str, value: Any,
                                    read: Callable[[Any], Any], expected: Any) -> None:
    assert read(SocketIO(app, **{name: value}).server) == expected


@pytest.mark.parametrize("name, value, read, expected", OPTIONS, ids=IDS)
def test_config_key_reaches_the_server(app: Flask, name: str, value: Any,
                                       read: Callable[[Any], Any], expected: Any) -> None:
    app.config["SOCKETIO_" + name.upper()] = value
    assert read(SocketIO(app).server) == expected


def test_keyword_wins_over_config_key(app: Flask) -> None:
    app.config["SOCKETIO_PING_TIMEOUT"] = 3
    sio = SocketIO()
    sio.init_app(app, ping_timeout=4)
    assert sio.server.engine.options.ping_timeout == 4


def test_json_option_encodes_what_handlers_send(app: Flask) -> None:
    codec = Codec()
    sio = SocketIO(app, json=codec)
    sio.on_event("hi", lambda: emit("back", {"n": 1}))
    sio.test_client(app).emit("hi")
    assert ["back", {"n": 1}] in codec.dumped


def test_logger_config_key_takes_a_logger_object(app: Flask, restore_loggers: None) -> None:
    mine = logging.getLogger("tests.mine")
    mine.setLevel(logging.INFO)
    kept = BufferingHandler(100)
    mine.addHandler(kept)
    try:
        app.config["SOCKETIO_LOGGER"] = mine
        sio = SocketIO(app)
        sio.on_event("anything", lambda: None)
        sio.test_client(app).emit("anything")
    finally:
        mine.removeHandler(kept)
    assert any(r.getMessage().startswith("received event 'anything'") for r in kept.buffer)


# -- Flask-SocketIO options flask_sio cannot honour: accepted, warned about --------------


@pytest.mark.parametrize("name, value", [("async_handlers", True), ("monitor_clients", False)])
def test_unsupported_value_is_accepted_with_a_warning_naming_it(app: Flask, name: str,
                                                                value: Any) -> None:
    with pytest.warns(IgnoredOptionWarning) as caught:
        sio = SocketIO(app, **{name: value})
    assert len(caught) == 1
    assert str(caught[0].message).startswith("SocketIO option %s=%r is ignored: " % (name, value))
    sio.on_event("ping", lambda: "pong")
    assert sio.test_client(app).emit("ping", callback=True) == "pong"


@pytest.mark.parametrize("name, value", [("async_handlers", False), ("monitor_clients", True)])
def test_value_matching_flask_sio_is_accepted_silently(app: Flask, name: str,
                                                       value: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SocketIO(app, **{name: value})


def test_serializer_other_than_json_is_refused(app: Flask) -> None:
    SocketIO(app, serializer="default")
    with pytest.raises(ValueError, match="serializer='msgpack' is not supported"):
        SocketIO(Flask("other"), serializer="msgpack")


def test_unknown_option_names_itself(app: Flask) -> None:
    with pytest.raises(TypeError, match="unknown SocketIO option 'bogus'"):
        SocketIO(app, bogus=1)


# -- always_connect --------------------------------------------------------------------


def connect_probe(sio: SocketIO, seen: list, verdict: Any = None) -> None:
    @sio.on("connect")
    def on_connect():
        seen.append(request.sid in sio.server.of("/").connected)
        emit("hello", "from connect")
        if verdict is not None:
            raise verdict if isinstance(verdict, Exception) else AssertionError(verdict)
        return None


def test_always_connect_admits_before_the_connect_handler(app: Flask) -> None:
    sio = SocketIO(app, always_connect=True)
    seen: list = []
    connect_probe(sio, seen)
    client = sio.test_client(app)
    assert seen == [True]
    assert client.is_connected() is True
    assert client.get_received() == [{"name": "hello", "args": ["from connect"],
                                      "namespace": "/"}]


def test_without_always_connect_the_handler_runs_before_admission(app: Flask) -> None:
    sio = SocketIO(app)
    seen: list = []
    connect_probe(sio, seen)
    client = sio.test_client(app)
    assert seen == [False]
    assert client.is_connected() is True


@pytest.mark.parametrize("refusal", ["false", "exception"])
def test_always_connect_refusal_disconnects(app: Flask, refusal: str) -> None:
    sio = SocketIO(app, always_connect=True)
    if refusal == "false":
        sio.on_event("connect", lambda: False)
    else:
        def refuse():
            raise ConnectionRefusedError("no")
        sio.on_event("connect", refuse)
    client = sio.test_client(app)
    assert client.is_connected() is False
    assert client.connect_error is None  # it was connected, then disconnected
    assert client._client.disconnected == ["/"]


# -- namespaces ---------------------------------------------------------------------------


def test_namespaces_lists_namespaces_accepted_without_handlers(app: Flask) -> None:
    sio = SocketIO(app, namespaces=["/extra"])
    client = sio.test_client(app)
    client.connect("/extra")
    assert client.is_connected("/extra") is True
    client.connect("/unlisted")
    assert client.is_connected("/unlisted") is False


def test_namespaces_star_accepts_any(app: Flask) -> None:
    sio = SocketIO(app, namespaces="*")
    client = sio.test_client(app)
    client.connect("/anything")
    assert client.is_connected("/anything") is True


# -- client_manager and write_only ---------------------------------------------------------


class InProcessManager:
    """Stands for python-socketio's ``Manager`` (no URL: one process)."""


class RedisManagerLike:
    """Stands for python-socketio's ``RedisManager``: what flask_sio reads of it."""

    def __init__(self, redis_url: str, channel: str) -> None:
        self.redis_url = redis_url
        self.channel = channel


def test_in_process_client_manager_is_the_default(app: Flask) -> None:
    sio = SocketIO(app, client_manager=InProcessManager())
    client = sio.test_client(app)
    with app.app_context():
        sio.emit("news", 1)
    assert client.get_received() == [{"name": "news", "args": [1], "namespace": "/"}]


def published(redis_url: str, channel: str, emit_fn: Callable[[], None]) -> BrokerMessage:
    """What ``emit_fn`` publishes on ``channel#broadcast``."""
    import redis

    conn = redis.Redis.from_url(redis_url)
    pubsub = conn.pubsub()
    try:
        pubsub.subscribe(channel + "#broadcast")
        assert pubsub.get_message(timeout=5)["type"] == "subscribe"
        emit_fn()
        message = pubsub.get_message(timeout=5)
        assert message is not None
        return decode_message(message["data"])
    finally:
        pubsub.close()
        conn.close()


def test_write_only_serves_nothing_and_emits_through_the_queue(app: Flask,
                                                               redis_server) -> None:
    sio = SocketIO(app, message_queue=redis_server.url, write_only=True)
    assert app.extensions["socketio"] is sio
    assert app.test_client().get("/socket.io/?EIO=4&transport=polling").status_code == 404
    message = published(redis_server.url, "flask-socketio",
                        lambda: sio.emit("notice", "via queue", to="room1"))
    assert (message.type, message.nsp) == (MessageType.BROADCAST, "/")
    assert message.body["text"] == '2["notice","via queue"]'
    assert message.body["opts"]["rooms"] == ["room1"]
    with pytest.raises(ValueError, match="callbacks need a server"):
        sio.emit("notice", callback=print)


def test_write_only_uses_a_client_managers_url_and_channel(app: Flask, redis_server) -> None:
    sio = SocketIO(app, client_manager=RedisManagerLike(redis_server.url, "chan"),
                   write_only=True)
    message = published(redis_server.url, "chan", lambda: sio.emit("notice", "managed"))
    assert message.body["text"] == '2["notice","managed"]'
    assert message.body["opts"]["rooms"] == []


def test_write_only_needs_a_queue(app: Flask) -> None:
    with pytest.raises(ValueError, match="write_only=True needs a message_queue"):
        SocketIO(app, write_only=True)
