"""sio_core.Server's API around the engine and the WSGI side, in process.

``bind``, the socket.io-style getters/setters (``origins``, ``adapter``, ``serve_client``,
``path``), ``attach`` with a WSGI app, ``engine.generate_id``, ``json=`` and the orjson
choice, and ``of()`` with socket.io 4's ``fn(name, auth, next)``. HTTP goes through
werkzeug's test client into the real WSGI app (no socket needed for polling handshakes).
"""
from __future__ import annotations

import json
import re
import sys
from typing import Any, Dict, List

import pytest
from werkzeug.test import Client

from sio_core import MemoryAdapter, Server
from sio_core.engineio import EngineOptions
from sio_core.server.engine import EngineServer
from sio_core.server.jsonlib import json_functions
from sio_core.socketio import default_dumps, default_loads
from sio_core.testing import TestClient

HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


def open_session(app: Any, url: str = HANDSHAKE, **headers: str) -> str:
    """A polling handshake through ``app``; the new session's id."""
    response = Client(app).get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_data(as_text=True)
    assert body.startswith("0{")
    return json.loads(body[1:])["sid"]


# -- bind -----------------------------------------------------------------------------------


def test_bind_serves_and_closes_the_new_engine():
    io = Server()
    old, new = io.engine, EngineServer(EngineOptions())
    assert io.bind(new) is io
    assert (io.engine, io.wsgi_app.engine, new.handler) == (new, new, io)
    sid = open_session(io)
    assert list(new.sessions) == [sid]
    assert list(old.sessions) == []
    conn = new.sessions[sid]
    io.close()
    assert conn.closed is True


# -- getters and setters ---------------------------------------------------------------------


def test_origins_getter_and_setter():
    io = Server()
    assert io.origins() is None
    assert io.origins(["http://a.com"]) is io
    assert io.origins() == ["http://a.com"]
    app = Client(io)
    assert app.get(HANDSHAKE, headers={"Origin": "http://a.com"}).status_code == 200
    assert app.get(HANDSHAKE, headers={"Origin": "http://b.com"}).status_code == 403
    io.origins("*")
    assert io.origins() == "*"
    assert app.get(HANDSHAKE, headers={"Origin": "http://b.com"}).status_code == 200


def test_adapter_getter_and_setter_apply_to_later_namespaces():
    io = Server()
    assert io.adapter() is MemoryAdapter
    built: List[str] = []

    def factory(nsp: Any) -> MemoryAdapter:
        built.append(nsp.name)
        return MemoryAdapter(nsp)

    assert io.adapter(factory) is io
    assert io.adapter() is factory
    root_adapter = io.of("/").adapter
    later = io.of("/later")
    assert built == ["/later"]
    assert type(later.adapter) is MemoryAdapter
    assert io.of("/").adapter is root_adapter  # not rebuilt


def test_serve_client_getter_and_setter():
    io = Server()
    app = Client(io)
    assert io.serve_client() is True
    assert app.get("/socket.io/socket.io.js").status_code == 200
    assert io.serve_client(False) is io
    assert io.serve_client() is False
    assert app.get("/socket.io/socket.io.js").status_code == 404
    assert Server(serve_client=False).serve_client() is False


def test_path_getter_and_setter():
    io = Server()
    assert io.path() == "/socket.io"
    assert io.path("/realtime/") is io
    assert io.path() == "/realtime"
    open_session(io, "/realtime/?EIO=4&transport=polling")
    assert Client(io).get(HANDSHAKE).status_code == 404
    assert Server(path="live").path() == "/live"


# -- attach, generate_id ----------------------------------------------------------------------


def test_attach_wraps_a_wsgi_app():
    seen: List[str] = []

    def page(environ: Dict[str, Any], start_response: Any) -> List[bytes]:
        seen.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"the page"]

    io = Server()
    assert Client(io).get("/").status_code == 404
    assert io.attach(page) is io
    response = Client(io).get("/index")
    assert (response.status_code, response.get_data()) == (200, b"the page")
    open_session(io)
    assert seen == ["/index"]


def test_setting_engine_generate_id():
    io = Server()
    ids = iter(["custom-1", "custom-2"])
    environs: List[str] = []

    def generate_id(environ: Dict[str, Any]) -> str:
        environs.append(environ["QUERY_STRING"])
        return next(ids)

    io.engine.generate_id = generate_id
    assert open_session(io) == "custom-1"
    assert open_session(io, HANDSHAKE + "&x=1") == "custom-2"
    assert environs == ["EIO=4&transport=polling", "EIO=4&transport=polling&x=1"]
    assert sorted(io.engine.sessions) == ["custom-1", "custom-2"]


# -- json -------------------------------------------------------------------------------------


class RecordingJson:
    """A json module stand-in that records what goes through it; dumps returns bytes."""

    def __init__(self) -> None:
        self.dumped: List[Any] = []
        self.loaded: List[str] = []

    def dumps(self, value: Any) -> bytes:
        self.dumped.append(value)
        return json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8")

    def loads(self, text: str) -> Any:
        self.loaded.append(text)
        return json.loads(text)


def test_the_json_option_encodes_and_decodes_packets():
    codec = RecordingJson()
    io = Server(json=codec)

    @io.on("connection")
    def on_connection(socket: Any) -> None:
        socket.on("echo", lambda *args: socket.emit("echo", *args))

    client = TestClient(io)
    assert client.connect() is True
    client.emit("echo", {"b": 2, "a": "é"})
    assert client.get_received() == [{"name": "echo", "args": [{"b": 2, "a": "é"}],
                                      "namespace": "/"}]
    # the server encoded its echo with it, and decoded the event (TestClient encodes with
    # the server's dumps too, hence the sorted keys)
    assert codec.dumped.count(["echo", {"b": 2, "a": "é"}]) == 2
    assert codec.loaded.count('["echo",{"a":"\\u00e9","b":2}]') == 2
    # bytes from dumps become text
    assert io.dumps({"b": 1, "a": [None]}) == '{"a":[null],"b":1}'


def test_orjson_is_chosen_when_installed():
    orjson = pytest.importorskip("orjson")
    dumps, loads = json_functions()
    assert dumps({"a": [1, "é", None]}) == orjson.dumps({"a": [1, "é", None]}).decode()
    assert dumps({1: "x"}) == default_dumps({1: "x"})  # orjson refuses non-str keys
    assert dumps(2**70) == default_dumps(2**70)  # and integers over 64 bits
    assert loads('{"a":[1.5,null]}') == {"a": [1.5, None]}
    # a refusal carries the standard library's message
    with pytest.raises(ValueError, match="^Expecting property name enclosed in double quotes"):
        loads("{bad")
    assert Server().dumps({"k": [True]}) == '{"k":[true]}'


def test_without_orjson_the_standard_library_is_used(monkeypatch):
    monkeypatch.setitem(sys.modules, "orjson", None)  # import orjson raises ImportError
    assert json_functions() == (default_dumps, default_loads)


# -- of(fn(name, auth, next)) ------------------------------------------------------------------


def test_of_takes_a_matcher_calling_next():
    io = Server()
    asked: List[Any] = []

    def matcher(name: str, auth: Any, next: Any) -> None:
        asked.append((name, auth))
        if name.startswith("/err-"):
            next(Exception("no"))
        elif not name.startswith("/silent-"):
            next(None, name.startswith("/ok-"))

    parent = io.of(matcher)
    parent.on("connection", lambda socket: socket.emit("hi", socket.nsp.name))
    client = TestClient(io)
    for name in ("/ok-1", "/no-1", "/err-1", "/silent-1"):
        client.connect(name, auth={"t": name})
    assert client.is_connected("/ok-1") is True
    for name in ("/no-1", "/err-1", "/silent-1"):
        assert client.is_connected(name) is False
    assert asked == [(name, {"t": name}) for name in ("/ok-1", "/no-1", "/err-1", "/silent-1")]
    assert client.get_received("/ok-1") == [{"name": "hi", "args": ["/ok-1"],
                                             "namespace": "/ok-1"}]
    assert sorted(parent.children) == ["/ok-1"]


def test_of_keeps_the_two_argument_matcher_and_regex():
    io = Server()
    io.of(lambda name, auth: name == "/two")
    io.of(re.compile(r"/re-\d+"))
    client = TestClient(io)
    for name in ("/two", "/re-12", "/re-x"):
        client.connect(name)
    assert [client.is_connected(n) for n in ("/two", "/re-12", "/re-x")] == [True, True, False]


@pytest.mark.parametrize("target", [True, False, "3000", None, 3.5])
def test_attach_refuses_what_is_neither_a_port_nor_a_wsgi_app(target: object) -> None:
    with pytest.raises(TypeError, match="port or a WSGI app"):
        Server().attach(target)  # type: ignore[arg-type]
