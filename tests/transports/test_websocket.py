"""The websocket transport over real loopback sockets, with the tiny client of ``wsclient``."""
from __future__ import annotations

import json
import struct
import threading
import time
from typing import Any, Dict, List

import pytest

from tests.helpers import ServerProcess
from tests.transports.wsclient import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    ConnectionEnded,
    Refused,
    assert_closed_with,
    assert_sid_gone,
    error_of,
    in_thread,
    joined,
    open_ws,
    polling_sid,
    request,
    ws_connect,
    ws_handshake,
)


@pytest.fixture(scope="module")
def echo():
    """One default echo server (25 s heartbeat) for tests that need no special flags."""
    server = ServerProcess("engineio_echo.py")
    yield server
    server.stop()


# -- direct websocket sessions ----------------------------------------------------------

def test_v4_direct_websocket_session(echo) -> None:
    ws, info = open_ws(echo.port, 4)
    with ws:
        assert sorted(info) == ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"]
        assert info["upgrades"] == []
        assert len(info["sid"]) >= 20
        ws.send("4hello")
        assert ws.recv() == "4hello"
        ws.send("4wörld 😀")
        assert ws.recv() == "4wörld 😀"
        ws.send("4")
        assert ws.recv() == "4"
        ws.send(b"\x00\x01\x02\xff")  # protocol 4: binary frames are the raw message
        assert ws.recv() == b"\x00\x01\x02\xff"
        ws.send(b"")
        frame = ws.recv_frame()
        assert (frame.opcode, frame.payload) == (OP_BINARY, b"")
        ws.send(b"\x04" * 70000)  # a 64-bit length
        assert ws.recv() == b"\x04" * 70000


def test_v3_direct_websocket_session(echo) -> None:
    ws, info = open_ws(echo.port, 3)
    with ws:
        assert sorted(info) == ["pingInterval", "pingTimeout", "sid", "upgrades"]
        ws.send("4hello")
        assert ws.recv() == "4hello"
        ws.send(b"\x04\x00\x01\x02")  # protocol 3: the byte 4 (message), then the data
        assert ws.recv() == b"\x04\x00\x01\x02"
        ws.send(b"\x04")
        assert ws.recv() == b"\x04"
        ws.send("b4AQID")  # base64 binary in a text frame
        assert ws.recv() == b"\x04\x01\x02\x03"
        ws.send("2probe")
        assert ws.recv() == "3probe"
        ws.send("2")
        assert ws.recv() == "3"


def test_v3_empty_binary_frame_is_a_protocol_error(echo) -> None:
    ws, info = open_ws(echo.port, 3)
    with ws:
        ws.send(b"")
        assert_closed_with(ws, 1002)
    assert_sid_gone(echo.port, 3, info["sid"])


def test_messages_keep_their_order(echo) -> None:
    ws, _ = open_ws(echo.port, 4)
    with ws:
        messages: List[Any] = []
        for i in range(200):
            messages.append("4n%d" % i if i % 3 else struct.pack("!I", i))
        ws.send_many(messages)
        assert [ws.recv() for _ in messages] == messages


def test_a_client_that_reads_late_gets_everything_in_order(echo) -> None:
    """12 MB of echoes pile up in the socket while the client is not reading: the server
    writes what fits without waiting and its writer greenlet finishes the rest in order."""
    ws, _ = open_ws(echo.port, 4)
    with ws:
        ws.settimeout(20)
        messages: List[Any] = [struct.pack("!I", i) + bytes([i % 251]) * 40_000
                               for i in range(300)]
        ws.send_many(messages)  # the server keeps reading while its writes wait
        ws.send("4last")
        assert [ws.recv() for _ in messages] == messages
        assert ws.recv() == "4last"


def test_fragmented_message_is_reassembled(echo) -> None:
    ws, _ = open_ws(echo.port, 4)
    with ws:
        ws.send_frame(OP_TEXT, b"4frag", fin=False)
        ws.send_frame(OP_PING, b"between")  # control frames may come between fragments
        assert ws.recv_frame() == (True, OP_PONG, b"between")
        ws.send_frame(OP_CONT, "mented ".encode(), fin=False)
        ws.send_frame(OP_CONT, "😀".encode())
        assert ws.recv() == "4fragmented 😀"


def test_client_close_frame_is_answered_and_ends_the_session(echo) -> None:
    ws, info = open_ws(echo.port, 4)
    with ws:
        ws.send_frame(OP_CLOSE, struct.pack("!H", 1000))
        assert_closed_with(ws, 1000)
    assert_sid_gone(echo.port, 4, info["sid"])


def test_client_close_packet_ends_the_session(echo) -> None:
    ws, info = open_ws(echo.port, 4)
    with ws:
        ws.send("1")
        assert ws.recv_close() in (1000, None)
    assert_sid_gone(echo.port, 4, info["sid"])


# -- protocol violations ----------------------------------------------------------------

@pytest.fixture
def small(start_example):
    return start_example("engineio_echo.py", "--max-http-buffer-size", "1000")


@pytest.mark.parametrize("payload", ["4" + "x" * 4999, b"\x00" * 5000])
def test_oversize_message_is_closed_with_1009(small, payload: Any) -> None:
    other, _ = open_ws(small.port, 4)
    with other:
        ws, info = open_ws(small.port, 4)
        assert info["maxPayload"] == 1000
        with ws:
            ws.send(payload)
            assert_closed_with(ws, 1009)
        assert_sid_gone(small.port, 4, info["sid"])
        other.send("4still here")
        assert other.recv() == "4still here"


def test_message_of_exactly_the_limit_is_accepted(small) -> None:
    ws, _ = open_ws(small.port, 4)
    with ws:
        ws.send("4" + "x" * 999)
        assert ws.recv() == "4" + "x" * 999


def test_oversize_fragmented_message_is_closed_with_1009(small) -> None:
    ws, _ = open_ws(small.port, 4)
    with ws:
        for _ in range(3):
            ws.send_frame(OP_TEXT if _ == 0 else OP_CONT, b"4" * 400, fin=False)
        assert_closed_with(ws, 1009)


def test_invalid_utf8_text_frame_is_closed_with_1007(echo) -> None:
    other, _ = open_ws(echo.port, 4)
    with other:
        ws, info = open_ws(echo.port, 4)
        with ws:
            ws.send_frame(OP_TEXT, b"4\xff\xfe bad")
            assert_closed_with(ws, 1007)
        assert_sid_gone(echo.port, 4, info["sid"])
        other.send("4fine")
        assert other.recv() == "4fine"


def test_unmasked_client_frame_is_closed_with_1002(echo) -> None:
    ws, info = open_ws(echo.port, 4)
    with ws:
        ws.send_frame(OP_TEXT, b"4hello", masked=False)
        assert_closed_with(ws, 1002)
    assert_sid_gone(echo.port, 4, info["sid"])


@pytest.mark.parametrize("frame", [
    dict(opcode=OP_TEXT, payload=b"4x", rsv=4),               # reserved bit, no extension
    dict(opcode=0x3, payload=b"4x"),                          # reserved opcode
    dict(opcode=OP_CONT, payload=b"4x"),                      # continuation of nothing
    dict(opcode=OP_PING, payload=b"x" * 126),                 # control frame too long
    dict(opcode=OP_PING, payload=b"x", fin=False),            # fragmented control frame
])
def test_framing_errors_are_closed_with_1002(echo, frame: Dict[str, Any]) -> None:
    ws, _ = open_ws(echo.port, 4)
    with ws:
        ws.send_frame(**frame)
        assert_closed_with(ws, 1002)


def test_engineio_garbage_is_closed_with_1002(echo) -> None:
    ws, info = open_ws(echo.port, 4)
    with ws:
        ws.send("9not a packet")
        assert_closed_with(ws, 1002)
    assert_sid_gone(echo.port, 4, info["sid"])


# -- refused handshakes -----------------------------------------------------------------

def test_refused_origin_gets_403_not_101(start_example) -> None:
    server = start_example("engineio_echo.py", "--origins", "same")
    result = ws_handshake(server.port, "EIO=4&transport=websocket",
                          headers={"Origin": "http://evil.example"})
    assert isinstance(result, Refused)
    assert result.status == 403
    assert result.headers["content-type"] == "application/json"
    assert json.loads(result.body)["code"] == 4
    # a same-origin websocket is accepted
    ws = ws_connect(server.port, "EIO=4&transport=websocket",
                    headers={"Origin": "http://127.0.0.1:%d" % server.port})
    with ws:
        assert ws.recv()[0] == "0"


def test_unknown_sid_gets_400_not_101(echo) -> None:
    result = ws_handshake(echo.port, "EIO=4&transport=websocket&sid=no-such-session")
    assert isinstance(result, Refused)
    assert result.status == 400
    assert json.loads(result.body) == {"code": 1, "message": "Session ID unknown"}


@pytest.mark.parametrize("query, code", [
    ("EIO=5&transport=websocket", 5),
    ("transport=websocket", 5),
])
def test_bad_version_gets_400_not_101(echo, query: str, code: int) -> None:
    result = ws_handshake(echo.port, query)
    assert isinstance(result, Refused)
    assert result.status == 400
    assert json.loads(result.body)["code"] == code


def test_websocket_disabled_gets_400_not_101(start_example) -> None:
    server = start_example("engineio_echo.py", "--transports", "polling")
    result = ws_handshake(server.port, "EIO=4&transport=websocket")
    assert isinstance(result, Refused)
    assert result.status == 400
    assert json.loads(result.body)["code"] == 0


# found by this test: a polling request with Upgrade headers used to get a 101 and a close
# frame without status code; it is now refused before the upgrade
def test_polling_request_with_upgrade_header_and_unknown_sid_is_refused_cleanly(echo) -> None:
    result = ws_handshake(echo.port, "EIO=4&transport=polling&sid=no-such-session")
    if isinstance(result, Refused):  # refused as plain HTTP before any 101
        assert result.status == 400
        assert json.loads(result.body) == {"code": 3, "message": "Bad request"}
        return
    with result:  # or upgraded, then closed with a well-formed close frame
        frame = result.recv_frame()
        assert frame.opcode == OP_CLOSE
        assert len(frame.payload) != 1
        if frame.payload:
            (code,) = struct.unpack("!H", frame.payload[:2])
            assert 1000 <= code <= 4999 and code not in (1004, 1005, 1006, 1015), code
            frame.payload[2:].decode("utf-8")


# -- upgrade from polling ---------------------------------------------------------------

@pytest.mark.parametrize("version", [3, 4])
def test_upgrade_from_polling(echo, version: int) -> None:
    def enc(*packets: str) -> bytes:
        if version == 4:
            return "\x1e".join(packets).encode()
        return "".join("%d:%s" % (len(p), p) for p in packets).encode()

    sid = polling_sid(echo.port, version)
    query = "EIO=%d&transport=polling&sid=%s" % (version, sid)
    # a message echoed while polling, collected by polling
    assert request(echo.port, "POST", query, enc("4first")).body == b"ok"
    assert request(echo.port, "GET", query).body == enc("4first")
    # the client keeps a GET waiting while it probes the websocket
    thread, pending = in_thread(request, echo.port, "GET", query)
    ws = ws_connect(echo.port, "EIO=%d&transport=websocket&sid=%s" % (version, sid))
    with ws:
        ws.send("2probe")
        assert ws.recv() == "3probe"
        # the probe answered, the waiting GET is released with a noop
        released = joined(thread, pending)
        assert (released.status, released.body) == (200, enc("6"))
        # a message sent on polling before the upgrade completes is not lost
        assert request(echo.port, "POST", query, enc("4before")).body == b"ok"
        ws.send("5")
        assert ws.recv() == "4before"
        ws.send("4after")
        assert ws.recv() == "4after"
        ws.send(b"\x04\x01" if version == 3 else b"\x01")
        assert ws.recv() == (b"\x04\x01" if version == 3 else b"\x01")
        # polling is over for this session
        for method, body in (("GET", None), ("POST", enc("4late"))):
            reply = request(echo.port, method, query, body)
            assert reply.status == 400
            assert error_of(reply)["code"] == 3


def test_messages_queued_for_polling_move_to_the_websocket(echo) -> None:
    sid = polling_sid(echo.port, 4)
    query = "EIO=4&transport=polling&sid=" + sid
    ws = ws_connect(echo.port, "EIO=4&transport=websocket&sid=" + sid)
    with ws:
        ws.send("2probe")
        assert ws.recv() == "3probe"
        # no GET is waiting: these echoes stay queued until the websocket takes over
        assert request(echo.port, "POST", query, b"4one\x1e4two").body == b"ok"
        ws.send("5")
        assert [ws.recv(), ws.recv()] == ["4one", "4two"]


def test_upgrade_needs_the_probe_first(echo) -> None:
    sid = polling_sid(echo.port, 4)
    ws = ws_connect(echo.port, "EIO=4&transport=websocket&sid=" + sid)
    with ws:
        ws.send("5")
        assert_closed_with(ws, 1002)
    # the polling session survives a failed upgrade
    query = "EIO=4&transport=polling&sid=" + sid
    assert request(echo.port, "POST", query, b"4still polling").body == b"ok"
    assert request(echo.port, "GET", query).body == b"4still polling"


def test_upgrade_with_the_wrong_version_is_refused(echo) -> None:
    sid = polling_sid(echo.port, 4)
    ws = ws_connect(echo.port, "EIO=3&transport=websocket&sid=" + sid)
    with ws:
        assert_closed_with(ws, 1008)


def test_no_upgrade_for_a_direct_websocket_session(echo) -> None:
    ws, info = open_ws(echo.port, 4)
    with ws:
        second = ws_connect(echo.port, "EIO=4&transport=websocket&sid=" + info["sid"])
        with second:
            assert_closed_with(second, 1008)
        ws.send("4first still works")
        assert ws.recv() == "4first still works"


# -- heartbeat --------------------------------------------------------------------------
#
# Lower time bounds are measured from before the handshake, which precedes the server's
# own clock start, so they hold however slow the machine is; upper bounds are generous.

EPS = 0.005  # float slack between the two processes' reads of the same monotonic clock


@pytest.fixture
def fast(start_example):
    return start_example("engineio_echo.py", "--ping-interval", "0.3", "--ping-timeout", "0.3")


@pytest.fixture
def lenient(start_example):
    """Frequent heartbeats, but a timeout that tolerates a slow test process."""
    return start_example("engineio_echo.py", "--ping-interval", "0.3", "--ping-timeout", "1")


def test_v4_server_pings_within_the_interval(fast) -> None:
    before = time.monotonic()
    ws, _ = open_ws(fast.port, 4)
    with ws:
        assert ws.recv() == "2"
        assert 0.3 - EPS <= time.monotonic() - before < 1.0


def test_v4_ping_answered_keeps_the_websocket_open(lenient) -> None:
    ws, _ = open_ws(lenient.port, 4)
    with ws:
        started = time.monotonic()
        pings = 0
        while time.monotonic() - started < 2.0:  # past interval + timeout (1.3 s)
            assert ws.recv() == "2"
            pings += 1
            ws.send("3")
        assert pings >= 2
        ws.send("4alive")
        message = ws.recv()
        if message == "2":
            ws.send("3")
            message = ws.recv()
        assert message == "4alive"


# found by this test: a pong did not move the next ping earlier in the scheduler
def test_v4_answered_pings_come_every_ping_interval(lenient) -> None:
    ws, _ = open_ws(lenient.port, 4)  # pingInterval 0.3 s, pingTimeout 1 s
    with ws:
        assert ws.recv() == "2"
        gaps = []
        for _ in range(3):
            ws.send("3")
            answered = time.monotonic()
            assert ws.recv() == "2"
            gaps.append(time.monotonic() - answered)
        assert max(gaps) < 0.3 + 0.4, gaps


def test_v4_unanswered_ping_closes_the_websocket(fast) -> None:
    before = time.monotonic()
    ws, info = open_ws(fast.port, 4)
    with ws:
        assert ws.recv() == "2"
        try:
            code = ws.recv_close()
        except ConnectionEnded:
            code = None
        # the ping went out at open + 0.3 s, the session ended 0.3 s later
        assert 0.6 - EPS <= time.monotonic() - before < 2.0
        assert code in (1000, None)
        assert ws.at_eof()
    assert_sid_gone(fast.port, 4, info["sid"])


def test_v3_client_pings_keep_the_websocket_open(lenient) -> None:
    ws, _ = open_ws(lenient.port, 3)
    with ws:
        started = time.monotonic()
        while time.monotonic() - started < 2.0:  # past interval + timeout (1.3 s)
            ws.send("2")
            assert ws.recv() == "3"
            ws.settimeout(0.2)
            try:  # the server itself never pings in protocol 3
                unexpected = ws.recv_frame()
            except OSError:  # socket.timeout
                unexpected = None
            assert unexpected is None
            ws.settimeout(5)
        ws.send("4alive")
        assert ws.recv() == "4alive"


def test_v3_silent_websocket_is_closed_after_interval_plus_timeout(fast) -> None:
    before = time.monotonic()
    ws, info = open_ws(fast.port, 3)
    with ws:
        try:
            code = ws.recv_close()
        except ConnectionEnded:
            code = None
        assert code in (1000, None)
        assert 0.6 - EPS <= time.monotonic() - before < 2.0
    assert_sid_gone(fast.port, 3, info["sid"])


# -- many clients at once ---------------------------------------------------------------

def test_100_concurrent_clients_exchange_100_messages_each(echo) -> None:
    clients, rounds = 100, 100
    barrier = threading.Barrier(clients, timeout=15)
    results: Dict[int, List[Any]] = {}
    errors: List[BaseException] = []

    def client(index: int) -> None:
        try:
            version = 3 if index % 4 == 0 else 4
            ws, _ = open_ws(echo.port, version)
            with ws:
                barrier.wait()
                received = []
                for i in range(rounds):
                    if i % 10 == 9:
                        message: Any = struct.pack("!HH", index, i)
                        if version == 3:
                            message = b"\x04" + message
                    else:
                        message = "4c%d-m%d" % (index, i)
                    ws.send(message)
                    received.append((message, ws.recv()))
                results[index] = received
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.1, 30 - (time.monotonic() - started)))
    assert not any(thread.is_alive() for thread in threads), "clients still running after 30 s"
    assert errors == []
    assert sorted(results) == list(range(clients))
    for received in results.values():
        assert [sent for sent, _ in received] == [echoed for _, echoed in received]
    assert time.monotonic() - started < 20
