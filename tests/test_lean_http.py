"""The lean HTTP/1.1 path (``sio_core.lean_http``): when it serves, what it hands to pywsgi
on the same connection, and the HTTP-level behaviour suites run again on pywsgi alone.

Every other test file runs on the default path (``http_parser="auto"``: the lean one, with
``httptools`` installed); ``test_the_http_edge_suites_pass_on_pywsgi_too`` reruns the
suites of the HTTP edge with ``SIO_HTTP_PARSER=pywsgi``.
"""
from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sio_core import Server
from sio_core.http import Request
from sio_core.lean_http import LeanHandler, find_engine_app, lean_available
from sio_core.serving import HTTP_PARSER_ENV, SioWebSocketHandler, make_server
from sio_core.wsgi.app import REQUEST_KEY
from sio_core.wsgi.middleware import Middleware
from tests.helpers import ROOT, ServerProcess
from tests.transports.wsclient import (
    OP_TEXT,
    ConnectionEnded,
    RawReply,
    WebSocketClient,
    encode_frame,
    polling_sid,
    ws_connect,
)

pytestmark = pytest.mark.skipif(not lean_available(), reason="httptools is not installed")

TIMEOUTS_APP = Path(__file__).resolve().parent / "transports" / "timeouts_app.py"


@pytest.fixture(scope="module")
def lean() -> Iterator[ServerProcess]:
    """A standalone ``Server(port)`` on the lean path."""
    server = ServerProcess(TIMEOUTS_APP, env={HTTP_PARSER_ENV: "httptools"})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def plain() -> Iterator[ServerProcess]:
    """The same server on pywsgi alone."""
    server = ServerProcess(TIMEOUTS_APP, env={HTTP_PARSER_ENV: "pywsgi"})
    yield server
    server.stop()


def _head(method: str, target: str, *headers: str, body: bytes = b"") -> bytes:
    lines = ["%s %s HTTP/1.1" % (method, target), "Host: 127.0.0.1"] + list(headers)
    if body:
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _sid(body: bytes) -> str:
    return body.split(b'"sid":"', 1)[1].split(b'"', 1)[0].decode()


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5.0)


class _Responses:
    """Successive HTTP responses read from one connection (several may come in one read)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill(self, size: int) -> None:
        while len(self.buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionEnded("closed after %r" % self.buffer[:200])
            self.buffer += chunk

    def next(self) -> RawReply:
        while b"\r\n\r\n" not in self.buffer:
            self._fill(len(self.buffer) + 1)
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {name.strip().lower(): value.strip() for name, _, value in
                   (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        self._fill(length)
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return RawReply(int(lines[0].split(" ")[1]), headers, body)


# -- choosing the path -----------------------------------------------------------------


def test_the_lean_path_serves_the_known_shapes_and_pywsgi_the_others() -> None:
    import flask

    from flask_sio import SocketIO

    server = Server()
    flask_app = flask.Flask(__name__)
    SocketIO(flask_app)
    known = [(server, server.wsgi_app), (server.wsgi_app, server.wsgi_app),
             (Middleware(server.wsgi_app, None), server.wsgi_app),
             (flask_app, flask_app.extensions["socketio"].server.wsgi_app)]
    for app, engine_app in known:
        assert find_engine_app(app) is engine_app
        http = make_server(app, port=0, http_parser="httptools")
        assert http.handler_class is LeanHandler and http.lean_app is engine_app
        assert make_server(app, port=0, http_parser="pywsgi").handler_class \
            is SioWebSocketHandler

    def wrapper(environ, start_response):  # a middleware of the user's: it may change
        return server(environ, start_response)  # the environ, so pywsgi serves all

    wrapped = flask.Flask("wrapped")
    SocketIO(wrapped)
    wrapped.wsgi_app = lambda environ, start: wrapped.extensions["socketio"].server(
        environ, start)
    for app in (wrapper, wrapped):
        assert find_engine_app(app) is None
        assert make_server(app, port=0, http_parser="httptools").handler_class \
            is SioWebSocketHandler


def test_the_option_and_the_environment_variable(monkeypatch) -> None:
    server = Server()
    monkeypatch.setenv(HTTP_PARSER_ENV, "pywsgi")
    assert make_server(server, port=0).handler_class is SioWebSocketHandler
    assert make_server(server, port=0, http_parser="auto").handler_class is LeanHandler
    monkeypatch.delenv(HTTP_PARSER_ENV)
    assert make_server(server, port=0).handler_class is LeanHandler  # auto by default
    with pytest.raises(ValueError, match="http_parser"):
        make_server(server, port=0, http_parser="llhttp")


def test_socketio_run_takes_the_option() -> None:
    from flask_sio.serving import server_keywords

    assert server_keywords({"http_parser": "pywsgi"}, {})[0] == {"http_parser": "pywsgi"}


@given(st.lists(st.text(alphabet="ab=&%+;é2", max_size=6), max_size=6).map("&".join))
def test_the_request_query_is_parse_qsls_first_values(query_string: str) -> None:
    """``Request.from_environ`` skips ``parse_qsl`` when there is nothing to unquote."""
    expected: dict = {}
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        expected.setdefault(key, value)
    assert dict(Request.from_environ({"QUERY_STRING": query_string}).query) == expected


# -- serving -----------------------------------------------------------------------------


def test_pipelined_requests_are_answered_in_order(lean) -> None:
    with _connect(lean.port) as sock:
        replies = _Responses(sock)
        sock.sendall(_head("GET", "/socket.io/?EIO=4&transport=polling"))
        handshake = replies.next()
        sid = _sid(handshake.body)
        target = "/socket.io/?EIO=4&transport=polling&sid=" + sid
        sock.sendall(_head("POST", target, body=b"40") + _head("GET", target)
                     + _head("OPTIONS", target, "Origin: http://elsewhere"))
        posted, polled, preflight = (replies.next() for _ in range(3))
    assert handshake.status == 200 and handshake.headers["keep-alive"] == "timeout=5"
    assert (posted.status, posted.body) == (200, b"ok")
    assert polled.status == 200 and polled.body.startswith(b'40{"sid":"')
    assert preflight.status == 204


def test_other_requests_go_to_pywsgi_on_the_same_connection(lean) -> None:
    """A request the lean path does not serve (here the client bundle under the path, then
    HTTP/1.0) is handed to pywsgi with the bytes already read: the requests pipelined
    behind it are served too, by pywsgi from then on."""
    with _connect(lean.port) as sock:
        replies = _Responses(sock)
        sock.sendall(_head("GET", "/socket.io/?EIO=4&transport=polling"))
        assert replies.next().status == 200
        sock.sendall(_head("GET", "/socket.io/socket.io.js")
                     + _head("GET", "/socket.io/?EIO=4&transport=bogus")
                     + _head("GET", "/socket.io/?EIO=4&transport=polling"))
        bundle, refused, handshake = (replies.next() for _ in range(3))
    assert bundle.status == 200 and b"io" in bundle.body
    assert bundle.headers["content-type"].startswith("application/javascript")
    assert (refused.status, refused.body) == (400, b'{"code":0,"message":"Transport unknown"}')
    assert handshake.status == 200 and b'"sid"' in handshake.body


@pytest.mark.parametrize("request_bytes", [
    # HTTP/1.0 and a chunked body with Expect: left to pywsgi, which serves them
    b"GET /socket.io/?EIO=4&transport=polling HTTP/1.0\r\n\r\n",
    b"POST /socket.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: x\r\n"
    b"Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n40\r\n0\r\n\r\n",
], ids=["http-1.0", "chunked-expect"])
def test_what_the_lean_path_does_not_read_is_served_by_pywsgi(lean, request_bytes) -> None:
    with _connect(lean.port) as sock:
        replies = _Responses(sock)
        sock.sendall(_head("GET", "/socket.io/?EIO=4&transport=polling"))
        sid = _sid(replies.next().body).encode()
        sock.sendall(request_bytes.replace(b"%s", sid))
        reply = replies.next()
        if reply.status == 100:
            reply = replies.next()
    assert reply.status == 200
    assert reply.body == b"ok" or b'"sid"' in reply.body


_UPGRADE = ("Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==")


@pytest.mark.parametrize("request_bytes", [
    _head("GET", "/socket.io/?EIO=4&transport=websocket", *_UPGRADE[:1] + _UPGRADE[2:]),
    _head("GET", "/socket.io/?EIO=4&transport=websocket", *_UPGRADE[:2] + _UPGRADE[3:]),
    _head("GET", "/socket.io/?EIO=4&transport=websocket", *_UPGRADE[:2],
          "Sec-WebSocket-Version: 12", _UPGRADE[3]),
    _head("GET", "/socket.io/?EIO=4&transport=websocket", *_UPGRADE[:3],
          "Sec-WebSocket-Key: short"),
    _head("GET", "/socket.io/?EIO=4&transport=websocket&sid=unknown", *_UPGRADE),
    _head("GET", "/socket.io/?EIO=4&transport=polling", *_UPGRADE),
    _head("GET", "/socket.io/?EIO=4&transport=websocket"),
    _head("POST", "/socket.io/?EIO=4&transport=polling", body=b"40"),
    _head("PUT", "/socket.io/?EIO=4&transport=polling"),
    _head("GET", "/socket.io/?EIO=4&transport=polling&sid=unknown"),
    _head("GET", "/socket.io/?EIO=9&transport=polling"),
    _head("GET", "/socket.io/?EIO=4&transport=polling&j=1"),
    _head("POST", "/socket.io/?EIO=4&transport=polling&sid=%s", "Content-Length: 2000000"),
    _head("OPTIONS", "/socket.io/?EIO=4&transport=polling", "Origin: http://elsewhere",
          "Access-Control-Request-Headers: x-custom"),
    _head("GET", "/socket.io/?EIO=4&transport=polling", "Origin: http://elsewhere",
          "Connection: close"),
], ids=["no-connection-upgrade", "no-version", "version-12", "bad-key", "unknown-sid-ws",
        "upgrade-on-polling", "websocket-without-upgrade", "post-handshake", "put",
        "unknown-sid", "bad-eio", "jsonp", "oversize-length", "preflight", "close"])
def test_both_paths_give_the_same_answer(lean, plain, request_bytes) -> None:
    """Refusals and odd requests (``%s``: a session's id) get the same status, headers
    and body on the lean path (or from pywsgi, to which it hands them) as on pywsgi."""
    replies = []
    for server in (lean, plain):
        with _connect(server.port) as sock:
            responses = _Responses(sock)
            sent = request_bytes
            if b"%s" in sent:
                sock.sendall(_head("GET", "/socket.io/?EIO=4&transport=polling"))
                sent = sent.replace(b"%s", _sid(responses.next().body).encode())
            sock.sendall(sent)
            reply = responses.next()
        headers = {name: value for name, value in reply.headers.items()
                   if name not in ("date", "content-length")}
        body = reply.body if b"sid" not in reply.body else b"<handshake>"
        replies.append((reply.status, headers, body))
    assert replies[0] == replies[1]


@pytest.mark.parametrize("parser", ["httptools", "pywsgi"])
def test_a_version_pywsgi_cannot_read_is_400_without_a_traceback(parser) -> None:
    """``HTTP/1`` made pywsgi raise an IndexError, logged with a traceback (the lean path
    hands such a head to pywsgi)."""
    server = ServerProcess(TIMEOUTS_APP, env={HTTP_PARSER_ENV: parser})
    try:
        for line in (b"GET /socket.io/?EIO=4&transport=polling HTTP/1", b"GET / HTTP/1"):
            with _connect(server.port) as sock:
                sock.sendall(line + b"\r\nHost: x\r\n\r\n")
                assert _Responses(sock).next().status == 400
    finally:
        output = server.stop()
    assert "Traceback" not in output


@pytest.mark.parametrize("extra", [(), ("X-Twice: 1", "X-Twice: 2")],
                         ids=["lean", "handed-to-pywsgi"])
def test_frames_sent_right_behind_the_upgrade_head_reach_the_session(lean, extra) -> None:
    """The bytes read past the head go to the websocket transport with the connection,
    also when pywsgi upgrades it (a repeated header: the lean path hands it over)."""
    with _connect(lean.port) as sock:
        sock.sendall(_head("GET", "/socket.io/?EIO=3&transport=websocket", *_UPGRADE, *extra)
                     + encode_frame(OP_TEXT, b"2probe"))
        replies = _Responses(sock)
        assert replies.next().status == 101
        ws = WebSocketClient(sock, replies.buffer)
        first = ws.recv()
        assert isinstance(first, str) and first.startswith("0{")  # the open packet
        # the pong of the ping sent with the head (and Socket.IO's connect of EIO=3)
        assert "3probe" in (ws.recv(), ws.recv())


def _data_segments_in(sock: socket.socket) -> int:
    """Segments with data this TCP socket received (Linux ``tcp_info.tcpi_data_segs_in``)."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    assert len(info) >= 156, "tcp_info without tcpi_data_segs_in (Linux < 4.6)"
    return struct.unpack_from("I", info, 152)[0]


@pytest.mark.parametrize("version", [4, 3])
def test_a_new_session_gets_the_101_and_its_open_packet_in_one_write(lean, version) -> None:
    """One send, not two, per websocket set-up; an upgrade still gets its 101 at once.
    (With EIO=3 the server's CONNECT for ``/`` may follow in a write of its own at any
    moment: the segments are counted for EIO=4, where nothing follows unasked.)"""
    ws = ws_connect(lean.port, "EIO=%d&transport=websocket" % version)
    with ws:
        first = ws.recv()
        assert isinstance(first, str) and first.startswith("0{")
        if version == 4:
            assert _data_segments_in(ws.sock) == 1
    sid = polling_sid(lean.port, version)
    upgrading = ws_connect(lean.port, "EIO=%d&transport=websocket&sid=%s" % (version, sid))
    with upgrading:
        upgrading.send("2probe")
        assert upgrading.recv() == "3probe"


# -- both paths ----------------------------------------------------------------------------

#: the suites of the HTTP edge (vetting, error bodies, CORS, limits, deadlines, hostile
#: input), run again on pywsgi alone; the rest of the suite runs on the default path
PYWSGI_SUITES = [
    "tests/transports/test_hostile.py",
    "tests/transports/test_protocol_edges.py",
    "tests/transports/test_timeouts.py",
    "tests/transports/test_edge_guards.py",
    "tests/wsgi/test_error_bodies.py",
    "tests/wsgi/test_app.py", "-k", "not test_app.py or origin or cors or preflight "
                                    "or credentials",
    # the slowest, about websockets and descriptors more than HTTP: the default path only
    "--deselect", "tests/transports/test_timeouts.py::"
                  "test_thousands_of_slow_connections_do_not_lock_out_a_real_client",
    "--deselect", "tests/transports/test_hostile.py::"
                  "test_a_dropped_client_that_never_reads_is_reset_after_the_ping_timeout",
]


def test_the_http_edge_suites_pass_on_pywsgi_too() -> None:
    env = dict(os.environ, **{HTTP_PARSER_ENV: "pywsgi"})
    run = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                          *PYWSGI_SUITES], cwd=str(ROOT), env=env, capture_output=True,
                         timeout=600)
    output = run.stdout.decode(errors="replace")
    assert run.returncode == 0, output[-4000:]
    assert " passed" in output and "failed" not in output


def test_nagle_is_off_for_every_connection_with_one_setsockopt_where_inherited() -> None:
    import gevent
    from gevent import socket as gsocket

    from sio_core.wsgi.app import PEER_SOCKET_KEY

    seen = []

    def allow(environ) -> bool:
        seen.append(environ[PEER_SOCKET_KEY].getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        return True

    http = make_server(Server(allow_request=allow), port=0, http_parser="httptools")
    http.start()
    try:
        for _ in range(4):
            with gsocket.create_connection(("127.0.0.1", http.server_port), timeout=10) as conn:
                conn.sendall(_head("GET", "/socket.io/?EIO=4&transport=polling"))
                with gevent.Timeout(10):
                    assert conn.recv(65536).startswith(b"HTTP/1.1 200")
        assert seen == [1, 1, 1, 1]
        assert http.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        if sys.platform.startswith("linux"):  # inherited from the listener from then on
            assert http.lean_no_delay is True
    finally:
        http.stop(timeout=1)


def test_the_request_read_from_an_environ_has_every_field_in_its_place() -> None:
    environ = {"REQUEST_METHOD": "post", "PATH_INFO": "/socket.io/", "QUERY_STRING": "a=1&a=2&b",
               "HTTP_ORIGIN": "http://o", "HTTP_HOST": "h:1", "wsgi.url_scheme": "https",
               "HTTP_ACCEPT_ENCODING": "gzip", "CONTENT_LENGTH": "12", "CONTENT_TYPE": "text/plain",
               "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "x-a", "HTTP_UPGRADE": "WebSocket",
               "HTTP_X_SOME_THING": "v", "REMOTE_ADDR": "10.0.0.1", "SERVER_NAME": "s"}
    for _ in range(2):  # the header names are remembered after the first request
        req = Request.from_environ(environ)
        assert (req.method, req.path, dict(req.query), req.origin, req.host, req.scheme) == \
            ("POST", "/socket.io/", {"a": "1", "b": ""}, "http://o", "h:1", "https")
        assert (req.accept_encoding, req.content_length, req.content_type, req.request_headers,
                req.websocket, req.remote_addr, req.query_string) == \
            ("gzip", 12, "text/plain", "x-a", True, "10.0.0.1", "a=1&a=2&b")
        assert dict(req.headers) == {
            "origin": "http://o", "host": "h:1", "accept-encoding": "gzip",
            "access-control-request-headers": "x-a", "upgrade": "WebSocket",
            "x-some-thing": "v", "content-type": "text/plain"}


_HEADER_NAMES = st.sampled_from([b"Host", b"Origin", b"content-type", b"Content-Length", b"X-A",
                                 b"x-a-b", b"Accept-Encoding", b"UPGRADE", b"Cookie"])


@given(st.lists(st.tuples(_HEADER_NAMES, st.binary(max_size=12)), max_size=6),
       st.sampled_from(["", "EIO=4&transport=polling", "a=%20&a=2"]))
def test_the_lean_paths_request_is_what_the_environ_reads_as(headers, query) -> None:
    """The lean path builds the ``Request`` from the head it parsed, without walking the
    environ; it must be the very one ``Request.from_environ`` reads from that environ."""
    server = make_server(Server(), "127.0.0.1", 0, http_parser="httptools")
    try:
        handler = LeanHandler(None, ("127.0.0.1", 4321), server)
        environ = handler._environ(headers, "POST", "/socket.io/", query)
        if environ is None:  # a repeated header: pywsgi's to answer
            assert len({name.lower() for name, _ in headers}) < len(headers)
            return
        assert environ[REQUEST_KEY] == Request.from_environ(environ)
    finally:
        server.close()
