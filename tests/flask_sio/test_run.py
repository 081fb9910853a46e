"""SocketIO.run(): Flask-SocketIO's keywords, gevent's server keywords, and request logs."""
from __future__ import annotations

import http.client
import json
import ssl
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
from flask import Flask

from flask_sio import SocketIO
from flask_sio.serving import server_keywords
from tests.helpers import ServerProcess

RUNAPP = Path(__file__).with_name("runapp.py")


@pytest.fixture
def run_app() -> Iterator[Any]:
    """Factory: ``run_app(**kwargs)`` → runapp.py serving with ``socketio.run(app, **kwargs)``."""
    started = []

    def start(**kwargs: Any) -> ServerProcess:
        server = ServerProcess(RUNAPP, "--kwargs", json.dumps(kwargs))
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def handshake(conn: http.client.HTTPConnection) -> Dict[str, Any]:
    """An Engine.IO 4 polling handshake: the open packet's data."""
    conn.request("GET", "/socket.io/?EIO=4&transport=polling")
    response = conn.getresponse()
    body = response.read().decode()
    assert response.status == 200
    assert body[0] == "0"
    return json.loads(body[1:])


def test_allow_unsafe_werkzeug_is_ignored_and_connections_are_served(run_app) -> None:
    server = run_app(allow_unsafe_werkzeug=True)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        assert sorted(handshake(conn)) == ["maxPayload", "pingInterval", "pingTimeout", "sid",
                                           "upgrades"]
    finally:
        conn.close()
    output = server.stop()
    assert "'allow_unsafe_werkzeug' means nothing on gevent, ignored" in output
    assert "Traceback" not in output


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> Dict[str, str]:
    """A self-signed certificate for 127.0.0.1: {"certfile", "keyfile"}."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return {"certfile": str(cert), "keyfile": str(key)}


@pytest.mark.parametrize("spelling", ["gevent", "werkzeug"])
def test_tls_keywords_reach_gevent(run_app, certificate, spelling) -> None:
    if spelling == "gevent":
        server = run_app(**certificate)
    else:  # werkzeug's ssl_context=(certfile, keyfile), a list once through JSON
        server = run_app(ssl_context=[certificate["certfile"], certificate["keyfile"]])
    context = ssl.create_default_context(cafile=certificate["certfile"])
    context.check_hostname = False
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, timeout=5, context=context)
    try:
        assert isinstance(handshake(conn)["sid"], str)
        assert conn.sock.version() is not None  # the answer came over TLS
    finally:
        conn.close()


def test_log_output_logs_request_lines(run_app) -> None:
    server = run_app(log_output=True)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        for name in ("one", "two"):
            conn.request("GET", "/page/" + name)
            assert conn.getresponse().read() == b"page " + name.encode()
    finally:
        conn.close()
    # the first line is logged before the second request is read from the same connection
    lines = [line for line in server.stop().splitlines() if "GET /page/one" in line]
    assert len(lines) == 1
    assert lines[0].startswith("INFO sio_core.serving 127.0.0.1")
    assert '"GET /page/one HTTP/1.1" 200' in lines[0]


@pytest.mark.parametrize("kwargs", [{"threaded": True}, {"bogus": 1}, {"handler_class": None}])
def test_unknown_run_keywords_are_refused_at_call_time(kwargs) -> None:
    app = Flask(__name__)
    sio = SocketIO(app)
    name = next(iter(kwargs))
    with pytest.raises(TypeError, match=r"SocketIO.run\(\) got unexpected keyword\(s\) %s;"
                       % name):
        sio.run(app, port=1, **kwargs)


def test_unknown_reloader_options_are_refused() -> None:
    app = Flask(__name__)
    sio = SocketIO(app)
    with pytest.raises(TypeError, match=r"reloader_options=\) got unexpected keyword\(s\) "
                                        r"speed;"):
        sio.run(app, port=1, reloader_options={"interval": 1, "speed": 2})


def test_server_keywords_sorts_what_goes_where() -> None:
    server, reloader = server_keywords(
        {"allow_unsafe_werkzeug": True, "backlog": 7, "ssl_context": ("c.pem", "k.pem")},
        {"interval": 0.5, "extra_files": ["x"], "reloader_type": "stat",
         "exclude_patterns": ["*.tmp"]})
    assert server == {"backlog": 7, "certfile": "c.pem", "keyfile": "k.pem"}
    assert reloader == {"interval": 0.5, "extra_files": ["x"], "exclude_patterns": ["*.tmp"]}
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    assert server_keywords({"ssl_context": context}, {}) == ({"ssl_context": context}, {})
    assert server_keywords({"ssl_context": None}, {}) == ({}, {})
    with pytest.raises(ValueError, match="ssl_context='adhoc' is werkzeug's"):
        server_keywords({"ssl_context": "adhoc"}, {})


def test_reloader_exclude_patterns_leave_files_unwatched(tmp_path) -> None:
    from flask_sio.serving import _source_files

    kept, skipped = tmp_path / "kept.cfg", tmp_path / "skipped.tmp"
    kept.write_text("a")
    skipped.write_text("b")
    found = _source_files([str(kept), str(skipped)], ["*.tmp"])
    assert str(kept) in found
    assert str(skipped) not in found
