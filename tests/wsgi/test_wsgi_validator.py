"""WSGIApp called in-process through wsgiref's validator: WSGI compliance, hooks, options."""
from __future__ import annotations

import io
import json
from typing import Any, Dict, List, Optional, Tuple
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import pytest

from sio_core import Server
from sio_core.engineio import EngineOptions
from sio_core.server.engine import EngineHandler, EngineServer
from sio_core.wsgi.app import WSGIApp
from sio_core.wsgi.middleware import Middleware


def call(app: Any, method: str = "GET", query: str = "", body: bytes = b"",
         headers: Optional[Dict[str, str]] = None, path: str = "/socket.io/"
         ) -> Tuple[str, Dict[str, str], bytes]:
    environ: Dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "",
                               "QUERY_STRING": query, "wsgi.input": io.BytesIO(body),
                               "CONTENT_LENGTH": str(len(body))}
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    setup_testing_defaults(environ)
    captured: List[Any] = []

    def start_response(status: str, response_headers: list, exc_info: Any = None) -> Any:
        captured.append((status, dict(response_headers)))
        return lambda data: None

    result = validator(app)(environ, start_response)
    try:
        data = b"".join(result)
    finally:
        result.close()
    status, hdrs = captured[0]
    return status, hdrs, data


class Echo(EngineHandler):
    def on_message(self, conn, data):
        conn.send(data)


def make_app(**kwargs: Any) -> WSGIApp:
    options = {k: kwargs.pop(k) for k in list(kwargs) if k in EngineOptions.__dataclass_fields__}
    return WSGIApp(EngineServer(EngineOptions(**options), Echo()), **kwargs)


def handshake(app: Any, eio: int = 4, **kw: Any) -> Tuple[str, Dict[str, str], bytes]:
    return call(app, query="EIO=%d&transport=polling" % eio, **kw)


def sid_of(body: bytes) -> str:
    text = body.decode()
    return json.loads(text[text.index("{"):text.rindex("}") + 1])["sid"]


def test_polling_round_trip_is_wsgi_compliant() -> None:
    app = make_app(ping_interval=0.2)
    status, headers, body = handshake(app)
    assert status == "200 OK"
    sid = sid_of(body)
    query = "EIO=4&transport=polling&sid=" + sid
    assert call(app, "POST", query, b"4hello\x1e4world")[2] == b"ok"
    assert call(app, "GET", query)[2] == b"4hello\x1e4world"


def test_allow_request_hook_refuses_with_403() -> None:
    app = make_app(allow_request=lambda environ: environ.get("HTTP_X_TOKEN") == "yes")
    status, _, body = handshake(app)
    assert status == "403 Forbidden"
    assert json.loads(body)["code"] == 4
    assert handshake(app, headers={"X-Token": "yes"})[0] == "200 OK"


def test_cookie_option() -> None:
    app = make_app(cookie={"name": "io", "path": "/", "httponly": True, "samesite": "Strict"})
    _, headers, body = handshake(app)
    assert headers["Set-Cookie"] == "io=%s; Path=/; HttpOnly; SameSite=Strict" % sid_of(body)
    assert "Set-Cookie" not in handshake(make_app())[1]


def test_custom_generate_id() -> None:
    app = WSGIApp(EngineServer(EngineOptions(), Echo(), generate_id=lambda environ: "fixed-id"))
    assert sid_of(handshake(app)[2]) == "fixed-id"


def test_callable_origins_and_cors_headers() -> None:
    app = make_app(origins=lambda origin: origin.endswith(".good.example"))
    status, headers, _ = handshake(app, headers={"Origin": "https://a.good.example"})
    assert status == "200 OK"
    assert headers["Access-Control-Allow-Origin"] == "https://a.good.example"
    assert headers["Access-Control-Allow-Credentials"] == "true"
    assert handshake(app, headers={"Origin": "https://evil.example"})[0] == "403 Forbidden"


def test_refused_origin_is_logged_once_with_the_fix(caplog) -> None:
    app = make_app()
    for _ in range(3):
        assert handshake(app, headers={"Origin": "http://elsewhere.example"})[0] == \
            "403 Forbidden"
    messages = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(messages) == 1
    assert "origins=['http://elsewhere.example']" in messages[0]


def test_transports_option_limits_transports() -> None:
    app = make_app(transports=("websocket",))
    status, _, body = handshake(app)
    assert status == "400 Bad Request"
    assert json.loads(body) == {"code": 0, "message": "Transport unknown"}


def test_no_upgrades_when_disabled() -> None:
    body = handshake(make_app(allow_upgrades=False))[2]
    assert json.loads(body.decode()[1:])["upgrades"] == []


def test_middleware_passes_other_paths_to_the_wrapped_app() -> None:
    def other(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"wrapped"]

    app = Middleware(make_app(), other)
    assert call(app, path="/index.html")[2] == b"wrapped"
    assert handshake(app)[0] == "200 OK"
    assert call(Middleware(make_app()), path="/x")[0] == "404 Not Found"


def test_server_wraps_a_wsgi_app_and_custom_path() -> None:
    def other(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"app"]

    io_server = Server(other, path="/rt")
    assert call(io_server, path="/")[2] == b"app"
    assert call(io_server, query="EIO=4&transport=polling", path="/rt/")[0] == "200 OK"
    assert io_server.path() == "/rt"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_refused(method: str) -> None:
    status, _, body = call(make_app(), method, "EIO=4&transport=polling")
    assert status == "400 Bad Request"
    assert json.loads(body)["code"] == 2  # a handshake must be a GET


def test_internal_errors_become_500_not_tracebacks() -> None:
    app = WSGIApp(EngineServer(EngineOptions(), Echo(), generate_id=lambda environ: 1 / 0))
    status, _, body = handshake(app)
    assert status == "500 Internal Server Error"
    assert b"Traceback" not in body
