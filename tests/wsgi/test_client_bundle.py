"""Serving the client bundle: over a real loopback server (examples/conformance_app.py, with
the default serve_client=True and path /socket.io), and serve_bundle in-process through
wsgiref's validator."""
from __future__ import annotations

import gzip
import http.client
import io
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import pytest

from sio_core.engineio import EngineOptions
from sio_core.http import Request
from sio_core.server.engine import EngineHandler, EngineServer
from sio_core.wsgi.app import WSGIApp
from sio_core.wsgi.client_bundle import serve_bundle
from tests.helpers import ROOT, ServerProcess

STATIC = ROOT / "sio_core" / "static"
BUNDLE_SERVER = ROOT / "tests" / "js" / "bundle_server.py"
JS = "application/javascript; charset=utf-8"
Answer = Tuple[int, Dict[str, str], bytes]


def get(port: int, path: str, headers: Optional[Dict[str, str]] = None,
        method: str = "GET") -> Answer:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


@pytest.fixture
def server(start_example: Any) -> Any:
    return start_example("conformance_app.py")


# -- over the wire -----------------------------------------------------------------------


def test_serves_the_readable_bundle(server: Any) -> None:
    status, headers, body = get(server.port, "/socket.io/socket.io.js")
    assert status == 200
    assert headers["content-type"] == JS
    assert body == (STATIC / "socket.io.js").read_bytes()
    assert int(headers["content-length"]) == len(body)
    assert headers["cache-control"] == "public, max-age=0"
    assert headers["etag"].startswith('"')
    assert headers["etag"].endswith('"')
    assert headers["vary"] == "Accept-Encoding"
    assert "content-encoding" not in headers


def test_gzip_when_accepted(server: Any) -> None:
    plain = get(server.port, "/socket.io/socket.io.js")
    status, headers, body = get(server.port, "/socket.io/socket.io.js",
                                {"Accept-Encoding": "br, gzip;q=0.8, deflate"})
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == plain[2]
    assert len(body) < len(plain[2]) / 3
    assert headers["etag"] != plain[1]["etag"]  # another representation, another tag
    refused = get(server.port, "/socket.io/socket.io.js", {"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused[1]
    assert refused[2] == plain[2]


def test_min_file_and_source_map(server: Any) -> None:
    status, headers, body = get(server.port, "/socket.io/socket.io.min.js")
    assert status == 200
    assert headers["content-type"] == JS
    assert body == (STATIC / "socket.io.min.js").read_bytes()
    assert body.rstrip().endswith(b"//# sourceMappingURL=socket.io.min.js.map")
    for name in ("socket.io.min.js.map", "socket.io.js.map"):
        status, headers, body = get(server.port, "/socket.io/" + name)
        assert status == 200
        assert headers["content-type"] == "application/json; charset=utf-8"
        mapping = json.loads(body)
        assert mapping["version"] == 3
        assert mapping["file"] == "socket.io.min.js"
        assert mapping["sources"] == ["socket.io.js"]


def test_other_requests_under_the_path_go_to_the_engine(server: Any) -> None:
    for method, path in [("GET", "/socket.io/other.js"), ("POST", "/socket.io/socket.io.js"),
                         ("GET", "/socket.io/static/socket.io.js")]:
        status, headers, body = get(server.port, path, method=method)
        assert status == 400
        assert headers["content-type"] == "application/json"
        assert "code" in json.loads(body)
    status, _, body = get(server.port, "/socket.io/?EIO=4&transport=polling")
    assert status == 200
    assert body.startswith(b"0{")


def test_if_none_match_answers_304(server: Any) -> None:
    _, headers, _ = get(server.port, "/socket.io/socket.io.js")
    status, again, body = get(server.port, "/socket.io/socket.io.js",
                              {"If-None-Match": headers["etag"]})
    assert status == 304
    assert body == b""
    assert again["etag"] == headers["etag"]


def test_custom_path() -> None:
    server = ServerProcess(BUNDLE_SERVER, "--path", "/custom/io")
    try:
        status, headers, body = get(server.port, "/custom/io/socket.io.js")
        assert status == 200
        assert body == (STATIC / "socket.io.js").read_bytes()
        assert get(server.port, "/socket.io/socket.io.js")[0] == 404
    finally:
        server.stop()


def test_serve_client_false_answers_404() -> None:
    server = ServerProcess(BUNDLE_SERVER, "--no-client")
    try:
        for name in ("socket.io.js", "socket.io.min.js", "socket.io.js.map"):
            assert get(server.port, "/socket.io/" + name)[0] == 404
    finally:
        server.stop()


# -- in-process, through wsgiref's validator ------------------------------------------------


class Nothing(EngineHandler):
    """An engine handler for apps that never get that far."""


class BundleApp:
    """A WSGIApp whose static hook calls serve_bundle with the environ and the switch."""

    def __init__(self) -> None:
        #: serve_client
        self.enabled = True
        self.wsgi = WSGIApp(EngineServer(EngineOptions(), Nothing()), "/socket.io",
                            static=self.static)

    def static(self, req: Request, environ: Dict[str, Any]) -> Any:
        return serve_bundle(req, "/socket.io", environ, self.enabled)

    def __call__(self, environ: Dict[str, Any], start_response: Any) -> Any:
        return self.wsgi(environ, start_response)


@pytest.fixture
def app() -> BundleApp:
    return BundleApp()


def call(app: Any, path: str, headers: Optional[Dict[str, str]] = None,
         method: str = "GET") -> Answer:
    environ: Dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "",
                               "QUERY_STRING": "", "wsgi.input": io.BytesIO(b"")}
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    setup_testing_defaults(environ)
    captured: List[Any] = []

    def start_response(status: str, response_headers: list, exc_info: Any = None) -> Any:
        captured.append((int(status.split()[0]), {k.lower(): v for k, v in response_headers}))
        return lambda data: None

    result = validator(app)(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        result.close()
    return captured[0][0], captured[0][1], body


@pytest.mark.parametrize("encoding", ["", "gzip"])
def test_etag_revalidation(app: Any, encoding: str) -> None:
    accept = {"Accept-Encoding": encoding}
    status, headers, body = call(app, "/socket.io/socket.io.js", accept)
    assert status == 200
    etag = headers["etag"]
    for tags in (etag, "W/" + etag, '"other", ' + etag, "*"):
        status, again, body = call(app, "/socket.io/socket.io.js",
                                   dict(accept, **{"If-None-Match": tags}))
        assert (status, body) == (304, b"")
        assert again["etag"] == etag
        assert again["cache-control"] == "public, max-age=0"
        assert "content-type" not in again
    status, _, body = call(app, "/socket.io/socket.io.js",
                           dict(accept, **{"If-None-Match": '"stale"'}))
    assert status == 200
    assert body != b""


def test_each_file_has_its_own_etag(app: Any) -> None:
    tags = {name: call(app, "/socket.io/" + name)[1]["etag"]
            for name in ("socket.io.js", "socket.io.min.js", "socket.io.min.js.map")}
    assert len(set(tags.values())) == 3
    assert call(app, "/socket.io/socket.io.js.map")[1]["etag"] == tags["socket.io.min.js.map"]


def test_disabled_answers_404_for_bundle_names_only(app: Any) -> None:
    app.enabled = False
    assert call(app, "/socket.io/socket.io.js")[0] == 404
    assert call(app, "/socket.io/socket.io.min.js.map")[0] == 404
    assert call(app, "/socket.io/other.js")[0] == 400  # the engine's, as when enabled


def test_serve_bundle_leaves_other_requests_alone() -> None:
    def request(method: str, path: str) -> Request:
        environ: Dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path}
        return Request.from_environ(environ)

    assert serve_bundle(request("GET", "/socket.io/socket.io.js"), "/socket.io/") is not None
    assert serve_bundle(request("GET", "/socket.io/socket.io.js"), "socket.io") is not None
    assert serve_bundle(request("HEAD", "/socket.io/socket.io.js"), "/socket.io") is None
    assert serve_bundle(request("POST", "/socket.io/socket.io.js"), "/socket.io") is None
    assert serve_bundle(request("GET", "/socket.io/"), "/socket.io") is None
    assert serve_bundle(request("GET", "/socket.io/x/socket.io.js"), "/socket.io") is None
    assert serve_bundle(request("GET", "/other/socket.io.js"), "/socket.io") is None
    assert serve_bundle(request("GET", "/socket.iosocket.io.js"), "/socket.io") is None


def test_package_data_lists_the_static_files() -> None:
    setup_cfg = (ROOT / "setup.cfg").read_text()
    assert "sio_core = py.typed, static/*" in setup_cfg
    for name in ("socket.io.js", "socket.io.min.js", "socket.io.min.js.map"):
        assert Path(STATIC / name).is_file()
