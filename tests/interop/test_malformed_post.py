"""A malformed polling POST, on our server and on the Node reference server side by side.

engine.io (6.6) answers the POST ``ok`` and closes the session: the client's waiting GET
carries the close packet, so engine.io-client hears "transport close", and the session is
then unknown. We used to answer 400, which the client took for an error on its POST while
its GET got a noop. Raw HTTP, so that no library normalises either answer.
"""
from __future__ import annotations

import socket
from typing import Any, Iterator, Tuple

import pytest

from tests.test_client import start
from tests.transports.wsclient import assert_sid_gone, polling_sid, read_response, request

pytestmark = pytest.mark.interop

BODIES = [
    (4, b"X"),              # unknown packet type
    (4, b"6\x1eX"),         # a noop, then an unknown packet type
    (4, b"4ok\x1e"),        # empty packet after the separator
    (4, b""),               # empty
    (3, b"abc"),            # no length prefix
    (3, b"3:4x"),           # longer than the data
    (3, b""),               # empty
]


@pytest.fixture(scope="module", params=["ours", "reference"])
def server(request: pytest.FixtureRequest) -> Iterator[Any]:
    srv = start(request.param)
    yield srv
    srv.stop()


def open_session(port: int, version: int) -> Tuple[str, str]:
    """A polling session's sid and query, with nothing left for its next GET: an EIO=3
    client is connected to ``/`` at once (Socket.IO 2), so its welcome is read first."""
    sid = polling_sid(port, version)
    query = "EIO=%d&transport=polling&sid=%s" % (version, sid)
    seen = b""
    for _ in range(3):
        if version == 4 or b"welcome" in seen:
            return sid, query
        seen += request(port, "GET", query).body
    raise AssertionError("no welcome: %r" % seen)


@pytest.mark.parametrize("version, body", BODIES)
def test_a_malformed_post_is_ok_and_the_waiting_get_carries_the_close(
        server: Any, version: int, body: bytes) -> None:
    sid, query = open_session(server.port, version)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as waiting:
        waiting.sendall(b"GET /socket.io/?%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                        % query.encode())  # sent first: the server parks it
        post = request(server.port, "POST", query, body,
                       headers={"Content-Type": "text/plain;charset=UTF-8"})
        got = read_response(waiting)
    assert (post.status, post.body) == (200, b"ok")
    assert (got.status, got.body) == (200, b"1" if version == 4 else b"1:1")
    assert_sid_gone(server.port, version, sid)
