"""Refusals at the serving edge, over raw sockets: before any 101, with the right status.

- a websocket upgrade over HTTP/1.0 gets 400 (gevent-websocket alone would answer 402);
- ``allow_request`` refusing a websocket handshake gets 403, never a 101;
- a refused origin (socket.io 2's forms in ``origins``) gets 403 and one log line.
"""
from __future__ import annotations

import base64
import os
import socket
from pathlib import Path
from typing import Iterator

import pytest

from tests.helpers import ServerProcess
from tests.transports.wsclient import (
    RawReply,
    Refused,
    error_of,
    read_response,
    request,
    ws_handshake,
)

API_APP = Path(__file__).resolve().parent.parent / "interop" / "api_app.py"


ORIGINS = ("--origins", "localhost:*", "--origins", "http://allowed.test")


@pytest.fixture(scope="module")
def guarded() -> Iterator[ServerProcess]:
    """api_app.py whose ``allow_request`` refuses websocket handshakes."""
    proc = ServerProcess(API_APP, "--refuse-websocket", *ORIGINS)
    yield proc
    proc.stop()


def test_a_websocket_upgrade_over_http_1_0_gets_400():
    server = ServerProcess(API_APP, *ORIGINS)
    try:
        reply = upgrade_over_http_1_0(server.port)
    finally:
        server.stop()
    assert (reply.status, reply.body) == (400, b"websocket needs HTTP/1.1")
    assert "sec-websocket-accept" not in reply.headers


def upgrade_over_http_1_0(port: int) -> RawReply:
    """A valid websocket handshake, but for the HTTP version; the server's answer."""
    key = base64.b64encode(os.urandom(16)).decode()
    head = ("GET /socket.io/?EIO=4&transport=websocket HTTP/1.0\r\n"
            "Host: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (port, key))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head.encode("latin-1"))
        return read_response(sock)


def test_a_websocket_handshake_refused_by_allow_request_gets_403(guarded):
    reply = ws_handshake(guarded.port, "EIO=4&transport=websocket")
    assert isinstance(reply, Refused)
    assert reply.status == 403
    assert "sec-websocket-accept" not in reply.headers
    assert request(guarded.port, "GET", "EIO=4&transport=polling").status == 200


def test_a_refused_origin_gets_403_and_one_log_line():
    server = ServerProcess(API_APP, *ORIGINS)
    try:
        query = "EIO=4&transport=polling"
        for _ in range(3):
            reply = request(server.port, "GET", query, headers={"Origin": "http://evil.test"})
            assert reply.status == 403
            assert error_of(reply) == {"code": 4, "message": "Forbidden"}  # as engine.io
            assert reply.headers.get("Access-Control-Allow-Origin") is None
        for origin in ("http://localhost:4321", "https://localhost", "http://allowed.test"):
            reply = request(server.port, "GET", query, headers={"Origin": origin})
            assert reply.status == 200
            assert reply.headers.get("Access-Control-Allow-Origin") == origin
        refused = ws_handshake(server.port, "EIO=4&transport=websocket",
                               headers={"Origin": "http://evil.test"})
        assert isinstance(refused, Refused) and refused.status == 403
    finally:
        output = server.stop()
    assert output.count("refused a request from origin") == 1
    assert output.count("refused a request from origin http://evil.test ") == 1
