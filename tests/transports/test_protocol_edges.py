"""Edge behaviours the official Engine.IO protocol test suite checks, over raw HTTP."""
from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import threading
from typing import Optional, Tuple

import pytest


@pytest.fixture
def echo(start_example):
    return start_example("engineio_echo.py", "--ping-interval", "0.3", "--ping-timeout", "0.2")


def request(port: int, method: str, query: str, body: Optional[bytes] = None,
            headers: Optional[dict] = None) -> Tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, "/socket.io/?" + query, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def open_session(port: int) -> str:
    status, _, body = request(port, "GET", "EIO=4&transport=polling")
    assert status == 200
    return json.loads(body[1:])["sid"]


def in_thread(fn, *args):
    result: dict = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", fn(*args)))
    thread.start()
    return thread, result


def test_connection_close_is_announced(echo) -> None:
    status, headers, _ = request(echo.port, "GET", "EIO=4&transport=polling",
                                 headers={"Connection": "close"})
    assert status == 200
    assert headers.get("Connection") == "close"


def test_duplicate_get_closes_the_session_and_answers_the_pending_get(echo) -> None:
    sid = open_session(echo.port)
    query = "EIO=4&transport=polling&sid=" + sid
    thread, pending = in_thread(request, echo.port, "GET", query)
    second = request(echo.port, "GET", query + "&t=burst")
    thread.join(timeout=5)
    if second[0] == 200:  # our GET happened to arrive first: roles swap
        first, second = second, pending["value"]
    else:
        first = pending["value"]
    assert first[0] == 200
    assert first[2] == b"1"
    assert second[0] == 400
    assert request(echo.port, "GET", query)[0] == 400


def test_client_close_packet_answers_the_pending_get_with_a_noop(start_example) -> None:
    echo = start_example("engineio_echo.py", "--ping-interval", "5", "--ping-timeout", "5")
    sid = open_session(echo.port)
    query = "EIO=4&transport=polling&sid=" + sid
    raw = socket.create_connection(("127.0.0.1", echo.port), timeout=5)
    raw.sendall(("GET /socket.io/?%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % query).encode())
    raw.settimeout(0.3)
    with pytest.raises(socket.timeout):  # the GET is held by the server: it is pending
        raw.recv(1)
    status, _, body = request(echo.port, "POST", query, b"1")
    assert (status, body) == (200, b"ok")
    raw.settimeout(5)
    response = b""
    while not response.endswith(b"\r\n\r\n6"):
        chunk = raw.recv(4096)
        assert chunk, response
        response += chunk
    raw.close()
    assert response.startswith(b"HTTP/1.1 200")
    assert request(echo.port, "GET", query)[0] == 400


def test_silent_polling_client_is_dropped_after_interval_plus_timeout(echo) -> None:
    sid = open_session(echo.port)
    threading.Event().wait(0.7)  # stay silent past pingInterval + pingTimeout (0.5 s)
    status, _, body = request(echo.port, "GET", "EIO=4&transport=polling&sid=" + sid)
    assert status == 400
    assert json.loads(body)["code"] == 1


def test_websocket_joining_an_upgraded_session_is_accepted_then_closed(echo) -> None:
    sid = open_session(echo.port)
    query = "EIO=4&transport=websocket&sid=" + sid

    def ws_open() -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", echo.port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(("GET /socket.io/?%s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n" % (query, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(1)
            assert chunk
            head += chunk
        assert head.startswith(b"HTTP/1.1 101")
        return sock

    def send_text(sock: socket.socket, text: str) -> None:
        data = text.encode()
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        sock.sendall(bytes([0x81, 0x80 | len(data)]) + mask + masked)

    def read_frame(sock: socket.socket) -> Tuple[int, bytes]:
        b0, b1 = sock.recv(2)
        payload = b""
        while len(payload) < (b1 & 0x7F):
            payload += sock.recv((b1 & 0x7F) - len(payload))
        return b0 & 0x0F, payload

    first = ws_open()
    send_text(first, "2probe")
    assert read_frame(first) == (0x1, b"3probe")
    send_text(first, "5")
    second = ws_open()
    opcode, _ = read_frame(second)
    assert opcode == 0x8  # closed without a word
    second.close()
    send_text(first, "4hello")
    frame = read_frame(first)
    while frame == (0x1, b"2"):  # skip heartbeats
        send_text(first, "3")
        frame = read_frame(first)
    assert frame == (0x1, b"4hello")
    first.close()
