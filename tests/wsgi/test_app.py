"""The Engine.IO WSGI app over real HTTP: refusals, CORS, handshakes, cookies, compression.

Each test starts ``examples/engineio_echo.py`` in a subprocess and talks to it with
``http.client`` over loopback.
"""
from __future__ import annotations

import gzip
import json
import re
import zlib
from typing import Any, Dict

import pytest

from tests.helpers import ServerProcess
from tests.transports.wsclient import Reply, error_of, request


@pytest.fixture(scope="module")
def echo():
    """One default echo server shared by the tests that need no special flags."""
    server = ServerProcess("engineio_echo.py")
    yield server
    server.stop()


def handshake_body(reply: Reply, version: int) -> Dict[str, Any]:
    """The open packet's JSON from a polling handshake answer."""
    assert reply.status == 200
    text = reply.body.decode("utf-8")
    if version == 3:
        match = re.fullmatch(r"(\d+):0(\{.*\})", text)
        assert match is not None, text
        assert int(match.group(1)) == len(text) - len(match.group(1)) - 1
        return json.loads(match.group(2))
    assert text.startswith("0{")
    return json.loads(text[1:])


def open_sid(port: int, version: int = 4, **kwargs: Any) -> str:
    return handshake_body(request(port, "GET", "EIO=%d&transport=polling" % version, **kwargs),
                          version)["sid"]


# -- protocol version -------------------------------------------------------------------

@pytest.mark.parametrize("eio", ["5", "2", "0", "abc", ""])
def test_unknown_eio_is_refused_with_code_5(echo, eio: str) -> None:
    reply = request(echo.port, "GET", "EIO=%s&transport=polling" % eio)
    assert reply.status == 400
    error = error_of(reply)
    assert error["code"] == 5
    assert "EIO=3" in error["message"]
    assert "EIO=4" in error["message"]


def test_missing_eio_is_refused_with_code_5(echo) -> None:
    reply = request(echo.port, "GET", "transport=polling")
    assert reply.status == 400
    error = error_of(reply)
    assert error["code"] == 5
    assert "EIO=3" in error["message"] and "EIO=4" in error["message"]


def test_unknown_eio_on_a_post_is_refused_too(echo) -> None:
    sid = open_sid(echo.port)
    reply = request(echo.port, "POST", "EIO=5&transport=polling&sid=" + sid, b"4hello")
    assert reply.status == 400
    assert error_of(reply)["code"] == 5


# -- transport, session, method ---------------------------------------------------------

@pytest.mark.parametrize("query", ["EIO=4&transport=carrier-pigeon", "EIO=4",
                                   "EIO=3&transport=flashsocket", "EIO=4&transport="])
def test_unknown_transport_is_refused_with_code_0(echo, query: str) -> None:
    reply = request(echo.port, "GET", query)
    assert reply.status == 400
    error = error_of(reply)
    assert error == {"code": 0, "message": "Transport unknown"}


def test_disabled_transport_is_unknown(start_example) -> None:
    server = start_example("engineio_echo.py", "--transports", "websocket")
    reply = request(server.port, "GET", "EIO=4&transport=polling")
    assert reply.status == 400
    assert error_of(reply)["code"] == 0


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unknown_sid_is_refused_with_code_1(echo, method: str) -> None:
    body = b"4hello" if method == "POST" else None
    reply = request(echo.port, method, "EIO=4&transport=polling&sid=not-a-session", body)
    assert reply.status == 400
    assert error_of(reply) == {"code": 1, "message": "Session ID unknown"}


def test_handshake_with_post_is_refused_with_code_2(echo) -> None:
    reply = request(echo.port, "POST", "EIO=4&transport=polling", b"4hello")
    assert reply.status == 400
    assert error_of(reply) == {"code": 2, "message": "Bad handshake method"}
    # and no session was created by it: the next handshake works normally
    assert len(open_sid(echo.port)) >= 20


def test_jsonp_index_that_is_not_a_number_is_a_bad_request(echo) -> None:
    reply = request(echo.port, "GET", "EIO=3&transport=polling&j=alert(1)")
    assert reply.status == 400
    assert error_of(reply)["code"] == 3


def test_websocket_transport_without_upgrade_header_is_a_bad_request(echo) -> None:
    reply = request(echo.port, "GET", "EIO=4&transport=websocket")
    assert reply.status == 400
    assert error_of(reply)["code"] == 3


def test_protocol_version_mismatch_with_the_session_is_a_bad_request(echo) -> None:
    sid = open_sid(echo.port, 4)
    reply = request(echo.port, "GET", "EIO=3&transport=polling&sid=" + sid)
    assert reply.status == 400
    error = error_of(reply)
    assert error == {"code": 3, "message": "Bad request"}  # the detail goes to the log


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_bad_requests(echo, method: str) -> None:
    sid = open_sid(echo.port)
    # a handshake by another method than GET is code 2, as in the reference server
    for query, expected in (("EIO=4&transport=polling", (2, "Bad handshake method")),
                            ("EIO=4&transport=polling&sid=" + sid, (3, "Bad request"))):
        reply = request(echo.port, method, query, b"4x")
        assert reply.status == 400
        error = error_of(reply)
        assert (error["code"], error["message"]) == expected


def test_path_outside_socket_io_is_not_found(echo) -> None:
    for path in ("/", "/other/", "/socket.iox/", "/socket/"):
        reply = request(echo.port, "GET", "EIO=4&transport=polling", path=path)
        assert reply.status == 404, path


def test_path_without_trailing_slash_is_served(echo) -> None:
    reply = request(echo.port, "GET", "EIO=4&transport=polling", path="/socket.io")
    assert len(handshake_body(reply, 4)["sid"]) >= 20


def test_custom_path(start_example) -> None:
    server = start_example("engineio_echo.py", "--path", "/engine")
    assert request(server.port, "GET", "EIO=4&transport=polling").status == 404
    reply = request(server.port, "GET", "EIO=4&transport=polling", path="/engine/")
    assert handshake_body(reply, 4)["upgrades"] == ["websocket"]


# -- CORS and origins -------------------------------------------------------------------

def test_options_preflight_from_an_allowed_origin(start_example) -> None:
    server = start_example("engineio_echo.py", "--origins", "http://good.example")
    reply = request(server.port, "OPTIONS", "EIO=4&transport=polling", headers={
        "Origin": "http://good.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-custom",
    })
    assert reply.status == 204
    assert reply.body == b""
    assert reply.headers.get("Access-Control-Allow-Origin") == "http://good.example"
    methods = {m.strip() for m in reply.headers.get("Access-Control-Allow-Methods").split(",")}
    assert {"GET", "POST"} <= methods
    assert reply.headers.get("Access-Control-Allow-Headers") == "content-type, x-custom"
    assert reply.headers.get("Access-Control-Allow-Credentials") == "true"


def test_options_preflight_from_a_refused_origin_is_forbidden(start_example) -> None:
    server = start_example("engineio_echo.py", "--origins", "http://good.example")
    reply = request(server.port, "OPTIONS", "EIO=4&transport=polling", headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "GET"})
    assert reply.status == 403
    assert error_of(reply)["code"] == 4
    assert reply.headers.get("Access-Control-Allow-Origin") is None


def test_any_origin_by_default_is_echoed_back(echo) -> None:
    reply = request(echo.port, "GET", "EIO=4&transport=polling",
                    headers={"Origin": "http://anywhere.example"})
    assert reply.status == 200
    assert reply.headers.get("Access-Control-Allow-Origin") == "http://anywhere.example"
    assert reply.headers.get("Access-Control-Allow-Credentials") == "true"


@pytest.fixture
def same_origin(start_example):
    return start_example("engineio_echo.py", "--origins", "same")


def test_cross_origin_handshake_is_refused_with_code_4(same_origin) -> None:
    reply = request(same_origin.port, "GET", "EIO=4&transport=polling",
                    headers={"Origin": "http://evil.example"})
    assert reply.status == 403
    error = error_of(reply)
    assert error == {"code": 4, "message": "Forbidden"}  # which origin: in the log
    assert reply.headers.get("Access-Control-Allow-Origin") is None


def test_cross_origin_request_on_an_existing_session_is_refused(same_origin) -> None:
    sid = open_sid(same_origin.port)
    reply = request(same_origin.port, "POST", "EIO=4&transport=polling&sid=" + sid, b"4hi",
                    headers={"Origin": "http://evil.example"})
    assert reply.status == 403
    assert error_of(reply)["code"] == 4


def test_same_origin_request_is_allowed(same_origin) -> None:
    host = "127.0.0.1:%d" % same_origin.port
    reply = request(same_origin.port, "GET", "EIO=4&transport=polling",
                    headers={"Origin": "http://" + host, "Host": host})
    assert len(handshake_body(reply, 4)["sid"]) >= 20


def test_same_origin_is_decided_by_the_host_header(same_origin) -> None:
    reply = request(same_origin.port, "GET", "EIO=4&transport=polling",
                    headers={"Origin": "http://app.example", "Host": "app.example"})
    assert reply.status == 200
    reply = request(same_origin.port, "GET", "EIO=4&transport=polling",
                    headers={"Origin": "http://app.example", "Host": "other.example"})
    assert reply.status == 403


def test_request_without_origin_is_allowed(same_origin) -> None:
    reply = request(same_origin.port, "GET", "EIO=4&transport=polling")
    assert handshake_body(reply, 4)["pingInterval"] == 25000
    assert reply.headers.get("Access-Control-Allow-Origin") is None


def test_listed_origin_is_allowed_with_credentials(start_example) -> None:
    server = start_example("engineio_echo.py", "--origins",
                           "http://good.example,https://other.example")
    reply = request(server.port, "GET", "EIO=4&transport=polling",
                    headers={"Origin": "http://good.example"})
    sid = handshake_body(reply, 4)["sid"]
    assert reply.headers.get("Access-Control-Allow-Origin") == "http://good.example"
    assert reply.headers.get("Access-Control-Allow-Credentials") == "true"
    assert "Origin" in reply.headers.get("Vary", "")
    post = request(server.port, "POST", "EIO=4&transport=polling&sid=" + sid, b"4hi",
                   headers={"Origin": "http://good.example"})
    assert (post.status, post.body) == (200, b"ok")
    assert post.headers.get("Access-Control-Allow-Origin") == "http://good.example"
    evil = request(server.port, "GET", "EIO=4&transport=polling",
                   headers={"Origin": "http://evil.example"})
    assert evil.status == 403
    assert error_of(evil)["code"] == 4


def test_refusals_other_than_forbidden_carry_cors_headers(echo) -> None:
    reply = request(echo.port, "GET", "EIO=4&transport=polling&sid=nope",
                    headers={"Origin": "http://page.example"})
    assert reply.status == 400
    assert reply.headers.get("Access-Control-Allow-Origin") == "http://page.example"


# -- handshake --------------------------------------------------------------------------

def test_eio3_handshake_is_a_length_prefixed_open_packet_without_max_payload(echo) -> None:
    reply = request(echo.port, "GET", "EIO=3&transport=polling")
    assert reply.headers.get("Content-Type") == "text/plain; charset=UTF-8"
    info = handshake_body(reply, 3)
    assert sorted(info) == ["pingInterval", "pingTimeout", "sid", "upgrades"]
    assert info["upgrades"] == ["websocket"]
    assert (info["pingInterval"], info["pingTimeout"]) == (25000, 20000)


def test_eio4_handshake_is_a_bare_open_packet_with_max_payload(start_example) -> None:
    server = start_example("engineio_echo.py", "--max-http-buffer-size", "12345",
                           "--ping-interval", "7", "--ping-timeout", "3")
    reply = request(server.port, "GET", "EIO=4&transport=polling")
    assert reply.headers.get("Content-Type") == "text/plain; charset=UTF-8"
    info = handshake_body(reply, 4)
    assert sorted(info) == ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"]
    assert info["maxPayload"] == 12345
    assert (info["pingInterval"], info["pingTimeout"]) == (7000, 3000)
    assert info["upgrades"] == ["websocket"]


def test_no_upgrades_offered_when_disabled(start_example) -> None:
    server = start_example("engineio_echo.py", "--no-upgrades")
    assert open_sid(server.port) != ""
    reply = request(server.port, "GET", "EIO=4&transport=polling")
    assert handshake_body(reply, 4)["upgrades"] == []


def test_session_ids_are_unique_and_long(echo) -> None:
    sids = [open_sid(echo.port, version) for version in (3, 4) for _ in range(30)]
    assert len(set(sids)) == len(sids)
    assert min(len(sid) for sid in sids) >= 20
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", sid) for sid in sids)


def test_cookie_is_set_on_the_handshake(start_example) -> None:
    server = start_example("engineio_echo.py", "--cookie", "io")
    reply = request(server.port, "GET", "EIO=4&transport=polling")
    sid = handshake_body(reply, 4)["sid"]
    cookie = reply.headers.get("Set-Cookie")
    assert cookie is not None
    attributes = [part.strip() for part in cookie.split(";")]
    assert attributes[0] == "io=" + sid
    assert "Path=/" in attributes
    # only the handshake sets it
    post = request(server.port, "POST", "EIO=4&transport=polling&sid=" + sid, b"4x")
    assert post.headers.get("Set-Cookie") is None


def test_no_cookie_by_default(echo) -> None:
    reply = request(echo.port, "GET", "EIO=4&transport=polling")
    assert reply.status == 200
    assert reply.headers.get("Set-Cookie") is None


# -- compression ------------------------------------------------------------------------

BIG = "x" * 2500 + "y" * 2500


def _echo_back(port: int, text: str, accept_encoding: str) -> Reply:
    sid = open_sid(port)
    query = "EIO=4&transport=polling&sid=" + sid
    post = request(port, "POST", query, ("4" + text).encode())
    assert (post.status, post.body) == (200, b"ok")
    return request(port, "GET", query, headers={"Accept-Encoding": accept_encoding})


def test_large_polling_response_is_gzipped(echo) -> None:
    reply = _echo_back(echo.port, BIG, "gzip, deflate")
    assert reply.status == 200
    assert reply.headers.get("Content-Encoding") == "gzip"
    assert int(reply.headers.get("Content-Length")) == len(reply.body)
    assert len(reply.body) < 1000
    assert gzip.decompress(reply.body) == ("4" + BIG).encode()


def test_large_polling_response_is_deflated(echo) -> None:
    reply = _echo_back(echo.port, BIG, "deflate")
    assert reply.headers.get("Content-Encoding") == "deflate"
    assert zlib.decompress(reply.body) == ("4" + BIG).encode()


def test_small_polling_response_is_not_compressed(echo) -> None:
    reply = _echo_back(echo.port, "small", "gzip")
    assert reply.headers.get("Content-Encoding") is None
    assert reply.body == b"4small"


def test_no_compression_without_accept_encoding(echo) -> None:
    reply = _echo_back(echo.port, BIG, "identity")
    assert reply.headers.get("Content-Encoding") is None
    assert reply.body == ("4" + BIG).encode()


def test_gzip_refused_with_q0_is_not_used(echo) -> None:
    reply = _echo_back(echo.port, BIG, "gzip;q=0, deflate")
    assert reply.headers.get("Content-Encoding") == "deflate"
    assert zlib.decompress(reply.body) == ("4" + BIG).encode()


def test_compression_threshold_is_configurable(start_example) -> None:
    server = start_example("engineio_echo.py", "--compression-threshold", "100000")
    reply = _echo_back(server.port, BIG, "gzip")
    assert reply.headers.get("Content-Encoding") is None
    assert reply.body == ("4" + BIG).encode()
