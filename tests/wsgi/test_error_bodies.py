"""Engine.IO error answers, byte for byte as the reference server (engine.io) writes them.

The engine.io-client test suite compares the body of a refusal with the exact string
``{"code":1,"message":"Session ID unknown"}``, and an oversize polling POST with an empty
413. These tests read the raw bytes from a socket, so no HTTP library normalises them.
One test runs the reference Node server beside ours and compares the two answers.
"""
from __future__ import annotations

import socket
import subprocess
from typing import Dict, Iterator, Optional, Tuple

import pytest

from tests.helpers import INTEROP, ServerProcess, free_port, require_node, wait_for_port
from tests.transports.wsclient import RawReply, polling_sid, read_response


@pytest.fixture(scope="module")
def echo() -> Iterator[ServerProcess]:
    """An echo server that refuses cross-origin requests and takes POSTs up to 100 bytes
    (the engine.io-client suite's server has the same limit)."""
    server = ServerProcess("engineio_echo.py", "--origins", "same",
                           "--max-http-buffer-size", "100")
    yield server
    server.stop()


def raw_request(port: int, method: str, query: str, body: bytes = b"",
                headers: Optional[Dict[str, str]] = None) -> RawReply:
    """One request with ``Connection: close``; the answer as read from the raw socket up
    to the server's EOF (a chunked body is joined, as the reference server sends its
    errors chunked)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        lines = ["%s /socket.io/?%s HTTP/1.1" % (method, query), "Host: 127.0.0.1:%d" % port,
                 "Content-Length: %d" % len(body), "Connection: close"]
        lines += ["%s: %s" % item for item in (headers or {}).items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    found = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        found[name.strip().lower()] = value.strip()
    if found.get("transfer-encoding") == "chunked":
        joined = b""
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                break
            joined, rest = joined + rest[:size], rest[size + 2:]
        rest = joined
    else:
        assert len(rest) == int(found["content-length"])
    return RawReply(int(status_line.split(" ")[1]), found, rest)


def post_keeping_alive(port: int, query: str, head: bytes, body: bytes) -> Tuple[RawReply, bool]:
    """A POST without ``Connection: close``: the answer, and whether the server closed the
    connection after it anyway (EOF within 5 s)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST /socket.io/?%s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n%s"
                     % (query.encode(), head, body))
        reply = read_response(sock)
        try:
            closed = sock.recv(1) == b""
        except socket.timeout:
            closed = False
        return reply, closed


CASES = [
    # (what, method, query, body, expected body)
    ("transport unknown", "GET", "EIO=4&transport=carrier-pigeon", b"",
     b'{"code":0,"message":"Transport unknown"}'),
    ("session unknown", "GET", "EIO=4&transport=polling&sid=abc", b"",
     b'{"code":1,"message":"Session ID unknown"}'),
    ("session unknown, POST", "POST", "EIO=4&transport=polling&sid=abc", b"4x",
     b'{"code":1,"message":"Session ID unknown"}'),
    ("handshake by POST", "POST", "EIO=4&transport=polling", b"",
     b'{"code":2,"message":"Bad handshake method"}'),
    ("handshake by PUT", "PUT", "EIO=4&transport=polling", b"",
     b'{"code":2,"message":"Bad handshake method"}'),
    ("websocket without Upgrade", "GET", "EIO=4&transport=websocket", b"",
     b'{"code":3,"message":"Bad request"}'),
    ("bad JSONP index", "GET", "EIO=3&transport=polling&j=abc", b"",
     b'{"code":3,"message":"Bad request"}'),
]


@pytest.mark.parametrize("method, query, body, expected",
                         [pytest.param(*case[1:], id=case[0]) for case in CASES])
def test_error_body_is_byte_exact(echo, method: str, query: str, body: bytes,
                                  expected: bytes) -> None:
    reply = raw_request(echo.port, method, query, body)
    assert (reply.status, reply.headers["content-type"], reply.body) == (
        400, "application/json", expected)


def test_refused_origin_is_byte_exact(echo) -> None:
    reply = raw_request(echo.port, "GET", "EIO=4&transport=polling",
                        headers={"Origin": "http://evil.test"})
    assert (reply.status, reply.body) == (403, b'{"code":4,"message":"Forbidden"}')


def test_unsupported_version_keeps_its_longer_message(echo) -> None:
    reply = raw_request(echo.port, "GET", "EIO=5&transport=polling")
    assert (reply.status, reply.body) == (
        400, b'{"code":5,"message":"Unsupported protocol version EIO=5; '
             b'this server speaks EIO=3 and EIO=4"}')


@pytest.mark.parametrize("version, payload", [(4, b"4" + b"a" * 101), (3, b"102:4" + b"a" * 101)])
def test_oversize_post_is_an_empty_413_and_the_connection_closes(echo, version: int,
                                                                 payload: bytes) -> None:
    query = "EIO=%d&transport=polling&sid=%s" % (version, polling_sid(echo.port, version))
    reply, closed = post_keeping_alive(echo.port, query, b"Content-Length: %d\r\n"
                                       % len(payload), payload)
    assert (reply.status, reply.headers["content-length"], reply.body) == (413, "0", b"")
    assert (reply.headers["connection"], closed) == ("close", True)
    # the body's packets are lost, so the session is over
    assert raw_request(echo.port, "GET", query).body == \
        b'{"code":1,"message":"Session ID unknown"}'


def test_oversize_chunked_post_is_an_empty_413_and_the_connection_closes(echo) -> None:
    query = "EIO=4&transport=polling&sid=" + polling_sid(echo.port, 4)
    chunk = b"4" + b"a" * 150
    reply, closed = post_keeping_alive(echo.port, query, b"Transfer-Encoding: chunked\r\n",
                                       b"%x\r\n%s\r\n0\r\n\r\n" % (len(chunk), chunk))
    assert (reply.status, reply.headers["content-length"], reply.body) == (413, "0", b"")
    assert (reply.headers["connection"], closed) == ("close", True)


# -- beside the reference server -----------------------------------------------------------

@pytest.mark.interop
def test_error_bodies_match_the_reference_server(echo) -> None:
    require_node()
    port = free_port()
    proc = subprocess.Popen(["node", str(INTEROP / "reference_server.js"), str(port)],
                            cwd=str(INTEROP), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc=proc)
        for what, method, query, body, _ in CASES:
            if what == "bad JSONP index":  # engine.io answers that one as a handshake
                continue
            ours = raw_request(echo.port, method, query, body)
            theirs = raw_request(port, method, query, body)
            assert (what, ours.status, ours.body) == (what, theirs.status, theirs.body)
    finally:
        proc.terminate()
        proc.wait(timeout=5)
