"""Hostile clients over real loopback sockets: slow, silent, lying or malformed.

Each attack gets a clear HTTP error or a clean websocket close, and a well-behaved
client on the same server keeps being served throughout. What the neighbouring
modules already cover (framing errors, oversize messages, overlapping requests,
malformed payloads) is not repeated here.
"""
from __future__ import annotations

import json
import socket
import struct
import time
from typing import Iterator, List

import pytest

from tests.helpers import HOSTILE_APP, ServerProcess
from tests.transports.wsclient import (
    OP_CLOSE,
    OP_CONT,
    OP_TEXT,
    ConnectionEnded,
    WebSocketClient,
    assert_closed_with,
    assert_sid_gone,
    encode_frame,
    error_of,
    in_thread,
    joined,
    open_ws,
    polling_sid,
    read_response,
    request,
    sio_connect,
    ws_connect,
)

LIMIT = 1000  # the echo server's max_http_buffer_size


@pytest.fixture(scope="module")
def echo() -> Iterator[ServerProcess]:
    """An Engine.IO echo server with a small message limit, shared by the module."""
    server = ServerProcess("engineio_echo.py", "--max-http-buffer-size", str(LIMIT))
    yield server
    server.stop()


@pytest.fixture
def bystander(echo) -> Iterator[WebSocketClient]:
    """A well-behaved websocket client of the echo server, open during the test."""
    ws, _ = open_ws(echo.port, 4)
    with ws:
        assert_echoes(ws, "4hello")
        yield ws


def assert_echoes(ws: WebSocketClient, message: str) -> None:
    """``ws`` is still served: its message comes straight back."""
    ws.send(message)
    assert ws.recv() == message


def assert_polling_echoes(port: int, sid: str, message: bytes) -> None:
    """The protocol 4 polling session ``sid`` is still served."""
    query = "EIO=4&transport=polling&sid=" + sid
    post = request(port, "POST", query, message)
    assert (post.status, post.body) == (200, b"ok")
    reply = request(port, "GET", query)
    assert (reply.status, reply.body) == (200, message)


def raw_connection(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


# -- slow and silent clients ------------------------------------------------------------

def test_request_head_trickled_byte_by_byte_blocks_no_one(echo) -> None:
    other = polling_sid(echo.port, 4)
    head = b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with raw_connection(echo.port) as slow:
        for index, byte in enumerate(head):
            slow.sendall(bytes([byte]))
            if index % 16 == 0:  # the slow request is still incomplete: others go on
                assert_polling_echoes(echo.port, other, b"4while trickling %d" % index)
        reply = read_response(slow)
    assert reply.status == 200
    assert reply.body.startswith(b"0{")


def test_post_body_trickled_byte_by_byte_blocks_no_one(echo) -> None:
    slow_sid, other = polling_sid(echo.port, 4), polling_sid(echo.port, 4)
    query = "EIO=4&transport=polling&sid=" + slow_sid
    # the slow session's own long poll waits meanwhile, and gets the message at the end
    thread, pending = in_thread(request, echo.port, "GET", query)
    body = b"4trickled body"
    with raw_connection(echo.port) as slow:
        slow.sendall(b"POST /socket.io/?%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Length: %d\r\n\r\n" % (query.encode(), len(body)))
        for index, byte in enumerate(body):
            slow.sendall(bytes([byte]))
            if index % 4 == 0:
                assert_polling_echoes(echo.port, other, b"4meanwhile %d" % index)
        reply = read_response(slow)
    assert (reply.status, reply.body) == (200, b"ok")
    got = joined(thread, pending)
    assert (got.status, got.body) == (200, body)


def test_websocket_frame_trickled_byte_by_byte_blocks_no_one(echo, bystander) -> None:
    ws, _ = open_ws(echo.port, 4)
    with ws:
        frame = encode_frame(OP_TEXT, b"4slow frame")
        for index, byte in enumerate(frame):
            ws.sock.sendall(bytes([byte]))
            if index % 4 == 0:
                assert_echoes(bystander, "4meanwhile %d" % index)
        assert ws.recv() == "4slow frame"


def test_hundreds_of_idle_and_half_open_connections_block_no_handshake(echo) -> None:
    idle: List[socket.socket] = []
    try:
        for index in range(200):
            sock = raw_connection(echo.port)
            if index % 2:  # half of them start a request and never finish it
                sock.sendall(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHo")
            idle.append(sock)
        sid = polling_sid(echo.port, 4)
        assert_polling_echoes(echo.port, sid, b"4served anyway")
    finally:
        for sock in idle:
            sock.close()


def test_a_client_pipelining_far_more_than_max_queue_is_served(hostile_app) -> None:
    """1000 requests in one TCP write against queues of 50: the reader lets the handler
    and the writer run as it goes, so no queue overflows for a client that reads."""
    ws, _ = sio_connect(hostile_app.port)
    with ws:
        ws.settimeout(10)
        ws.send_many(['42%d["echo",%d]' % (i, i) for i in range(1000)])
        assert [ws.recv() for _ in range(1000)] == ['43%d[%d]' % (i, i) for i in range(1000)]


def test_client_that_never_reads_is_dropped_without_holding_up_broadcasts(hostile_app) -> None:
    """The server's per-session outbound queue (``max_queue``, 50 here) is the bound."""
    good, _ = sio_connect(hostile_app.port)
    slow, slow_id = sio_connect(hostile_app.port)  # from now on it reads nothing
    with good, slow:
        count, size = 400, 50_000  # 20 MB: more than the kernel buffers hold
        good.send('421["blast",%d,%d]' % (count, size))
        blobs = [good.recv() for _ in range(count)]
        assert blobs == ['42["blob",%d,"%s"]' % (i, "x" * size) for i in range(count)]
        assert good.recv() == "431[%d]" % count
        good.send('422["count"]')
        assert good.recv() == "432[1]"  # the slow client's session is gone already
        good.send('423["reason-of","%s"]' % slow_id)
        assert good.recv() == '433["transport error"]'
        # what reached the slow client is an in-order prefix, then a clean close
        received = []
        while True:
            frame = slow.recv_frame()
            if frame.opcode == OP_CLOSE:
                break
            received.append(frame.payload.decode())
        assert slow.at_eof()
        assert 0 < len(received) < count
        assert received == ['42["blob",%d,"%s"]' % (i, "x" * size)
                            for i in range(len(received))]


def _tcp_state(sock: socket.socket) -> str:
    """The kernel's state of ``sock`` from /proc/net/tcp ("01" established), "" if gone.

    Matched on both ports: an older connection that used the same local port (a closed
    test server's, in TIME_WAIT) may still be listed."""
    try:
        local = ":%04X" % sock.getsockname()[1]
        remote = ":%04X" % sock.getpeername()[1]
    except OSError:  # reset: no peer any more
        return ""
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            if fields[1].endswith(local) and fields[2].endswith(remote):
                return fields[3]
    return ""


def test_a_dropped_client_that_never_reads_is_reset_after_the_ping_timeout() -> None:
    """Its writer is stuck in a send nobody reads: the connection must not stay forever."""
    server = ServerProcess(HOSTILE_APP, "--max-queue", "50", "--ping-timeout", "4")
    try:
        good, _ = sio_connect(server.port)
        slow, slow_id = sio_connect(server.port)
        with good, slow:
            good.send('421["blast",400,50000]')
            for _ in range(400):
                good.recv()
            assert good.recv() == "431[400]"
            good.send('422["reason-of","%s"]' % slow_id)
            assert good.recv() == '432["transport error"]'
            assert _tcp_state(slow.sock) == "01"  # still established: the send is blocked
            deadline = time.monotonic() + 10
            while _tcp_state(slow.sock) == "01" and time.monotonic() < deadline:
                time.sleep(0.05)  # kernel state: nothing to wait on
            assert _tcp_state(slow.sock) != "01"
    finally:
        server.stop()


# -- websocket framing not covered by test_websocket.py ---------------------------------

@pytest.mark.parametrize("length", [LIMIT + 1, 65535, 2 ** 40, 2 ** 62, 2 ** 63 - 1])
def test_length_over_the_limit_is_refused_from_the_header_alone(echo, bystander,
                                                                length: int) -> None:
    ws, info = open_ws(echo.port, 4)
    with ws:
        if length < 65536:
            head = struct.pack("!BBH", 0x82, 0x80 | 126, length)
        else:
            head = struct.pack("!BBQ", 0x82, 0x80 | 127, length)
        ws.sock.sendall(head + b"mask")  # no payload follows: nothing may wait for it
        assert_closed_with(ws, 1009)
    assert_sid_gone(echo.port, 4, info["sid"])
    assert_echoes(bystander, "4unaffected")


def test_new_message_inside_a_fragmented_one_is_closed_with_1002(echo, bystander) -> None:
    ws, _ = open_ws(echo.port, 4)
    with ws:
        ws.send_frame(OP_TEXT, b"4first half", fin=False)
        ws.send_frame(OP_TEXT, b"4intruder")
        assert_closed_with(ws, 1002)
    assert_echoes(bystander, "4unaffected")


def test_utf8_sequence_split_across_fragments_is_valid(echo) -> None:
    ws, _ = open_ws(echo.port, 4)
    with ws:
        emoji = "😀".encode()
        ws.send_frame(OP_TEXT, b"4split " + emoji[:2], fin=False)
        ws.send_frame(OP_CONT, emoji[2:])
        assert ws.recv() == "4split 😀"


def test_data_after_the_close_frame_is_ignored(echo, bystander) -> None:
    ws, info = open_ws(echo.port, 4)
    with ws:
        ws.sock.sendall(encode_frame(OP_CLOSE, struct.pack("!H", 1000))
                        + encode_frame(OP_TEXT, b"4after close"))
        frame = ws.recv_frame()  # the close answer comes first: nothing was echoed
        assert (frame.opcode, frame.payload) == (OP_CLOSE, struct.pack("!H", 1000))
        assert ws.at_eof()
    assert_sid_gone(echo.port, 4, info["sid"])
    assert_echoes(bystander, "4unaffected")


@pytest.mark.parametrize("code", [1001, 3000, 4999])
def test_close_frame_with_a_valid_code_and_reason_is_answered(echo, code: int) -> None:
    ws, info = open_ws(echo.port, 4)
    with ws:
        ws.send_frame(OP_CLOSE, struct.pack("!H", code) + "bye 👋".encode())
        assert ws.recv_close() in (1000, code)
        assert ws.at_eof()
    assert_sid_gone(echo.port, 4, info["sid"])


@pytest.mark.parametrize("payload, expected", [
    (b"\x03", 1002),                                   # one byte: half a status code
    (struct.pack("!H", 0), 1002),
    (struct.pack("!H", 999), 1002),
    (struct.pack("!H", 1004), 1002),                   # reserved
    (struct.pack("!H", 1005), 1002),                   # "no status": never on the wire
    (struct.pack("!H", 1006), 1002),                   # "abnormal closure": never on the wire
    (struct.pack("!H", 1015), 1002),                   # "TLS failure": never on the wire
    (struct.pack("!H", 2999), 1002),                   # unassigned protocol range
    (struct.pack("!H", 5000), 1002),                   # beyond the registered ranges
    (struct.pack("!H", 1000) + b"\xff\xfe", 1007),     # reason is not UTF-8
])
def test_invalid_close_frame_is_answered_with_a_protocol_error(echo, bystander,
                                                               payload: bytes,
                                                               expected: int) -> None:
    ws, _ = open_ws(echo.port, 4)
    with ws:
        ws.send_frame(OP_CLOSE, payload)
        assert_closed_with(ws, expected)
    assert_echoes(bystander, "4unaffected")


def test_connection_ending_inside_a_frame_gets_no_1006_on_the_wire(echo, bystander) -> None:
    ws, info = open_ws(echo.port, 4)
    with ws:
        ws.sock.sendall(struct.pack("!BB", 0x81, 0x80 | 100) + b"mask" + b"only ten b")
        ws.sock.shutdown(socket.SHUT_WR)  # the client is done sending, mid-frame
        try:
            code = ws.recv_close()
        except ConnectionEnded:  # ending the TCP connection without a frame is fine
            code = None
        assert code in (None, 1002)
    assert_sid_gone(echo.port, 4, info["sid"])
    assert_echoes(bystander, "4unaffected")


# -- Engine.IO --------------------------------------------------------------------------

@pytest.mark.parametrize("version", [3, 4])
def test_probe_again_on_an_upgraded_session_changes_nothing(echo, version: int) -> None:
    sid = polling_sid(echo.port, version)
    ws = ws_connect(echo.port, "EIO=%d&transport=websocket&sid=%s" % (version, sid))
    with ws:
        ws.send("2probe")
        assert ws.recv() == "3probe"
        ws.send("5")
        ws.send("2probe")  # a second probe on a session that is already on websocket
        if version == 3:  # protocol 3: any client ping gets its pong
            assert ws.recv() == "3probe"
        assert_echoes(ws, "4still upgraded")
    reply = request(echo.port, "GET", "EIO=%d&transport=polling&sid=%s" % (version, sid))
    assert reply.status == 400  # polling stays over for this session, or it is gone
    assert error_of(reply)["code"] in (1, 3)


def test_post_to_a_session_the_client_closed_is_refused(echo) -> None:
    sid = polling_sid(echo.port, 4)
    query = "EIO=4&transport=polling&sid=" + sid
    assert request(echo.port, "POST", query, b"1").body == b"ok"
    reply = request(echo.port, "POST", query, b"4too late")
    assert reply.status == 400
    assert error_of(reply) == {"code": 1, "message": "Session ID unknown"}


@pytest.mark.parametrize("eio", ["4.0", "04", "%204", "4%00", "-4", "+4", "%EF%BC%94",
                                 "9" * 40, "3,4", "4%0d%0aX-Injected:%201"])
def test_absurd_eio_values_are_refused_with_code_5(echo, eio: str) -> None:
    reply = request(echo.port, "GET", "EIO=%s&transport=polling" % eio)
    assert reply.status == 400
    assert error_of(reply)["code"] == 5
    assert reply.headers.get("X-Injected") is None


def test_huge_query_string_is_refused_and_the_server_goes_on(echo) -> None:
    other = polling_sid(echo.port, 4)
    reply = request(echo.port, "GET", "EIO=4&transport=polling&pad=" + "a" * 100_000)
    assert reply.status == 414
    assert_polling_echoes(echo.port, other, b"4after a huge query")


def test_huge_sid_is_an_unknown_session(echo) -> None:
    reply = request(echo.port, "GET", "EIO=4&transport=polling&sid=" + "s" * 7000)
    assert reply.status == 400
    assert error_of(reply) == {"code": 1, "message": "Session ID unknown"}


def test_huge_header_is_refused_and_the_server_goes_on(echo) -> None:
    other = polling_sid(echo.port, 4)
    reply = request(echo.port, "GET", "EIO=4&transport=polling",
                    headers={"X-Padding": "p" * 100_000})
    assert reply.status == 400
    assert_polling_echoes(echo.port, other, b"4after a huge header")


@pytest.mark.parametrize("version, body", [
    (3, b"6:4h\xff\xfe!!"),                  # not UTF-8
    (3, b"\x00\x04\xff4\xff\xfe!"),          # XHR2 text entry that is not UTF-8
    (3, b"a:4hi"),                           # length prefixes that lie or are not numbers
    (3, b"-2:4x"),
    (3, b"+2:4x"),
    (3, b" 2:4x"),
    (3, "\uff12:4x".encode()),               # a fullwidth digit is no digit
    (3, b"2:4x3:"),                          # a length, then nothing
    (3, b"2:4x2"),                           # a length without its colon
    (3, b"3:4x"),                            # longer than the data
    (3, b"1:4x"),                            # shorter than the data: "x" is no prefix
    (3, b"9999999999999999:4x"),             # huge, within the digit limit
    (3, b"99999999999999999999999999:4x"),   # huge, past the digit limit
    (3, b"\x00" + b"\x09" * 40 + b"\xff4"),  # XHR2 length of 40 digits
    (3, b"\x00\x02"),                        # XHR2 entry cut inside its length
    (3, b"\x00\x09\xff4x"),                  # XHR2 length longer than the data
    (4, b"4\xc3"),                           # UTF-8 cut inside a character
])
def test_lying_or_undecodable_payload_is_ok_and_closes_only_that_session(
        echo, version: int, body: bytes) -> None:
    other = polling_sid(echo.port, 4)
    sid = polling_sid(echo.port, version)
    reply = request(echo.port, "POST", "EIO=%d&transport=polling&sid=%s" % (version, sid), body)
    assert (reply.status, reply.body) == (200, b"ok")  # as engine.io answers it
    assert_sid_gone(echo.port, version, sid)  # gone at once, as from engine.io
    assert_polling_echoes(echo.port, other, b"4unaffected")


def test_jsonp_body_that_is_not_utf8_closes_the_session(echo) -> None:
    sid = polling_sid(echo.port, 3)
    reply = request(echo.port, "POST", "EIO=3&transport=polling&j=0&sid=" + sid, b"d=\xff\xfe",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (reply.status, reply.body) == (200, b"ok")
    assert_sid_gone(echo.port, 3, sid)  # gone at once, as from engine.io


# found by this test: a body cut short raised OSError in the WSGI reader, answered as a
# 500 "internal error" with a logged traceback, and the session went on without its packets
def test_post_body_cut_short_is_400_and_closes_the_session(echo) -> None:
    sid = polling_sid(echo.port, 4)
    query = "EIO=4&transport=polling&sid=" + sid
    with raw_connection(echo.port) as sock:
        sock.sendall(b"POST /socket.io/?%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Length: 100\r\n\r\n4only part" % query.encode())
        sock.shutdown(socket.SHUT_WR)
        reply = read_response(sock)
    assert reply.status == 400
    assert json.loads(reply.body)["code"] == 3
    assert_sid_gone(echo.port, 4, sid)


# found by this test: broken chunked framing was a 500 "internal error" with a traceback
def test_broken_chunked_body_is_400_and_closes_the_session(echo) -> None:
    other = polling_sid(echo.port, 4)
    sid = polling_sid(echo.port, 4)
    query = "EIO=4&transport=polling&sid=" + sid
    with raw_connection(echo.port) as sock:
        sock.sendall(b"POST /socket.io/?%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\nzz\r\n4hi\r\n0\r\n\r\n" % query.encode())
        reply = read_response(sock)
        # the rest of the body must not be read as a next request: the connection closes
        assert reply.headers.get("connection") == "close"
        assert sock.recv(100) == b""
    assert reply.status == 400
    error = json.loads(reply.body)
    assert error["code"] == 3
    assert error["message"] == "Bad request"  # as engine.io words it; the detail is logged
    assert_sid_gone(echo.port, 4, sid)
    assert_polling_echoes(echo.port, other, b"4unaffected")
