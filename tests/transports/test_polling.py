"""HTTP long-polling sessions over real loopback HTTP, for Engine.IO 3 and 4.

The payload encodings are written out by hand here (not taken from ``sio_core``), so
the tests check the wire format itself.
"""
from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
from typing import Any, Dict, List
from urllib.parse import urlencode

import pytest

from tests.helpers import ServerProcess
from tests.transports.wsclient import Reply, error_of, in_thread, joined, request, ws_connect

SEP = "\x1e"


@pytest.fixture(scope="module")
def echo():
    """One default echo server (25 s heartbeat) for tests that need no special flags."""
    server = ServerProcess("engineio_echo.py")
    yield server
    server.stop()


# -- hand-written protocol 3 framing -----------------------------------------------------

def js_length(text: str) -> int:
    """String length as JavaScript counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def v3_encode(*packets: str) -> str:
    return "".join("%d:%s" % (js_length(p), p) for p in packets)


def v3_decode(text: str) -> List[str]:
    units = text.encode("utf-16-le")
    packets = []
    pos = 0
    while pos < len(units):
        colon = units.index(":".encode("utf-16-le"), pos)
        length = int(units[pos:colon].decode("utf-16-le"))
        start = colon + 2
        packets.append(units[start:start + 2 * length].decode("utf-16-le"))
        pos = start + 2 * length
    return packets


def xhr2_entry(packet: bytes, binary: bool) -> bytes:
    return bytes([1 if binary else 0]) + bytes(int(d) for d in str(len(packet))) + b"\xff" + packet


# -- a polling session ------------------------------------------------------------------

class Polling:
    """One Engine.IO session over raw HTTP polling."""

    def __init__(self, port: int, version: int, extra: str = "") -> None:
        self.port = port
        self.version = version
        base = "EIO=%d&transport=polling%s" % (version, extra)
        reply = request(port, "GET", base)
        assert reply.status == 200, reply
        text = reply.body.decode()
        if version == 3 and "j=" not in extra:
            (packet,) = v3_decode(text)
        elif version == 3:
            index = int(re.search(r"j=(\d+)", extra).group(1))  # type: ignore[union-attr]
            (packet,) = v3_decode(unwrap_jsonp(text, index))
        else:
            packet = text
        assert packet[0] == "0"
        self.info: Dict[str, Any] = json.loads(packet[1:])
        self.sid: str = self.info["sid"]
        self.query = base + "&sid=" + self.sid

    def get(self, extra: str = "", timeout: float = 5.0, **kwargs: Any) -> Reply:
        return request(self.port, "GET", self.query + extra, timeout=timeout, **kwargs)

    def post(self, body: bytes, extra: str = "", **kwargs: Any) -> Reply:
        return request(self.port, "POST", self.query + extra, body, **kwargs)

    def post_ok(self, body: bytes, extra: str = "", **kwargs: Any) -> None:
        reply = self.post(body, extra, **kwargs)
        assert (reply.status, reply.body) == (200, b"ok")

    def get_packets(self, timeout: float = 5.0) -> List[str]:
        """The packets of the next text payload."""
        reply = self.get(timeout=timeout)
        assert reply.status == 200, reply
        text = reply.body.decode("utf-8")
        return v3_decode(text) if self.version == 3 else text.split(SEP)


def unwrap_jsonp(text: str, index: int) -> str:
    match = re.fullmatch(r"___eio\[(\d+)\]\((\".*\")\);", text, re.S)
    assert match is not None, text
    assert int(match.group(1)) == index
    return json.loads(match.group(2))


def assert_session_gone(session: Polling) -> None:
    reply = session.get()
    assert reply.status == 400
    assert error_of(reply)["code"] == 1


# -- protocol 4 -------------------------------------------------------------------------

def test_v4_session_echoes_text_messages_batched_in_one_payload(echo) -> None:
    session = Polling(echo.port, 4)
    session.post_ok(SEP.join(["4hello", "4wörld 😀", "4"]).encode("utf-8"))
    reply = session.get()
    assert reply.headers.get("Content-Type") == "text/plain; charset=UTF-8"
    assert reply.body.decode("utf-8") == SEP.join(["4hello", "4wörld 😀", "4"])


def test_v4_messages_from_several_posts_come_back_in_order_in_one_get(echo) -> None:
    session = Polling(echo.port, 4)
    for i in range(5):
        session.post_ok(b"4m%d" % i)
    assert session.get_packets() == ["4m0", "4m1", "4m2", "4m3", "4m4"]


def test_v4_binary_messages_are_base64_with_a_b_prefix(echo) -> None:
    session = Polling(echo.port, 4)
    blob = bytes(range(256))
    encoded = "b" + base64.b64encode(blob).decode()
    session.post_ok(SEP.join(["4text", encoded, "b"]).encode())
    assert session.get_packets() == ["4text", encoded, "b"]


def test_v4_pending_get_is_answered_when_a_message_arrives(echo) -> None:
    session = Polling(echo.port, 4)
    thread, pending = in_thread(session.get_packets)
    # the POST may overtake the GET; either way the echo must reach the client
    session.post_ok(b"4late")
    assert joined(thread, pending) == ["4late"]


# -- protocol 3 -------------------------------------------------------------------------

def test_v3_session_echoes_text_messages_batched_in_one_payload(echo) -> None:
    session = Polling(echo.port, 3)
    session.post_ok(v3_encode("4hello", "4world").encode())
    reply = session.get()
    assert reply.headers.get("Content-Type") == "text/plain; charset=UTF-8"
    assert reply.body == b"6:4hello6:4world"


def test_v3_length_prefixes_count_utf16_code_units(echo) -> None:
    session = Polling(echo.port, 3)
    message = "4héllo 😀"
    assert (len(message), js_length(message), len(message.encode())) == (8, 9, 12)
    session.post_ok(("9:" + message + "2:4x").encode("utf-8"))
    reply = session.get()
    assert reply.body.decode("utf-8") == "9:4héllo 😀2:4x"


def test_v3_wrong_length_for_an_emoji_is_malformed(echo) -> None:
    session = Polling(echo.port, 3)
    # 8 is the length in code points, not in UTF-16 units: the payload is cut mid-emoji
    session.post_ok("8:4héllo 😀".encode("utf-8"))  # malformed: "ok" and closed, as engine.io
    assert_session_gone(session)


def test_v3_base64_binary_with_b64(echo) -> None:
    session = Polling(echo.port, 3, "&b64=1")
    packet = "b4" + base64.b64encode(b"\x00\x01\xfe\xff").decode()
    session.post_ok(v3_encode("4text", packet).encode())
    reply = session.get()
    assert reply.headers.get("Content-Type") == "text/plain; charset=UTF-8"
    assert v3_decode(reply.body.decode()) == ["4text", packet]


def test_v3_binary_without_b64_comes_back_as_an_xhr2_payload(echo) -> None:
    session = Polling(echo.port, 3)
    session.post_ok(v3_encode("4text", "b4AQID").encode())
    reply = session.get()
    assert reply.headers.get("Content-Type") == "application/octet-stream"
    assert reply.body == xhr2_entry(b"4text", False) + xhr2_entry(b"\x04\x01\x02\x03", True)


def test_v3_xhr2_binary_payload_post(echo) -> None:
    session = Polling(echo.port, 3)
    blob = bytes(range(200)) * 3  # a 601-byte packet: a three-digit length
    body = xhr2_entry(b"4hello", False) + xhr2_entry(b"\x04" + blob, True) + \
        xhr2_entry("4😀".encode(), False)
    session.post_ok(body, headers={"Content-Type": "application/octet-stream"})
    reply = session.get()
    assert reply.headers.get("Content-Type") == "application/octet-stream"
    assert reply.body == body


def test_v3_xhr2_payload_comes_back_as_base64_to_a_b64_client(echo) -> None:
    session = Polling(echo.port, 3, "&b64=1")
    body = xhr2_entry(b"\x04\xff\x00", True)
    session.post_ok(body, headers={"Content-Type": "application/octet-stream"})
    assert session.get_packets() == ["b4/wA="]


def test_v3_client_ping_is_answered_with_pong_carrying_its_data(echo) -> None:
    session = Polling(echo.port, 3)
    session.post_ok(v3_encode("2", "2probe", "4after").encode())
    assert session.get_packets() == ["3", "3probe", "4after"]


def test_v3_jsonp_session(echo) -> None:
    reply = request(echo.port, "GET", "EIO=3&transport=polling&j=0")
    assert reply.status == 200
    assert reply.headers.get("Content-Type") == "text/javascript; charset=UTF-8"
    (packet,) = v3_decode(unwrap_jsonp(reply.body.decode(), 0))
    sid = json.loads(packet[1:])["sid"]
    query = "EIO=3&transport=polling&sid=%s&j=" % sid
    form = urlencode({"d": v3_encode("4hello", "4\"quoted\" </script> 😀")}).encode()
    post = request(echo.port, "POST", query + "1", form,
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (post.status, post.body) == (200, b"ok")
    reply = request(echo.port, "GET", query + "1")
    assert reply.headers.get("Content-Type") == "text/javascript; charset=UTF-8"
    body = reply.body.decode()
    assert body.startswith("___eio[1](\"") and body.endswith("\");")
    assert body.isascii()  # the string literal is escaped: safe in any page encoding
    assert v3_decode(unwrap_jsonp(body, 1)) == ["4hello", "4\"quoted\" </script> 😀"]


def test_v3_jsonp_post_unescapes_newlines(echo) -> None:
    session = Polling(echo.port, 3, "&j=2")
    # the JSONP client escapes "\n" in the form field as backslash-n
    form = urlencode({"d": "12:4line1\\nline2"}).encode()
    session.post_ok(form, headers={"Content-Type": "application/x-www-form-urlencoded"})
    reply = session.get()
    assert v3_decode(unwrap_jsonp(reply.body.decode(), 2)) == ["4line1\nline2"]


# found by this test: the JSONP POST lost the client's escaped backslash-n
def test_v3_jsonp_post_keeps_escaped_backslash_n(echo) -> None:
    session = Polling(echo.port, 3, "&j=0")
    message = '4["chat","line1\\nline2"]'  # JSON of a string holding a newline: backslash-n
    assert "\\n" in message and "\n" not in message
    payload = v3_encode(message)
    # engine.io-client's JSONP doWrite: data.replace(/\\n/g, "\\\n").replace(/\n/g, "\\n")
    field = payload.replace("\\n", "\\\n").replace("\n", "\\n")
    assert field == payload.replace("\\n", "\\\\n")
    session.post_ok(urlencode({"d": field}).encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    reply = session.get()
    assert v3_decode(unwrap_jsonp(reply.body.decode(), 0)) == [message]


# found by this test: EIO=4 JSONP GETs were not wrapped
def test_v4_jsonp_get_is_wrapped(echo) -> None:
    reply = request(echo.port, "GET", "EIO=4&transport=polling&j=3")
    assert reply.status == 200
    packet = unwrap_jsonp(reply.body.decode(), 3)
    assert packet.startswith("0{")


def test_v3_jsonp_post_without_d_field_is_malformed(echo) -> None:
    # engine.io ignores such a body and keeps the session; we close it, as for any
    # malformed payload, rather than lose the client's packets without a word
    session = Polling(echo.port, 3, "&j=0")
    session.post_ok(b"x=1", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_session_gone(session)


# -- overlapping requests ---------------------------------------------------------------

@pytest.mark.parametrize("version", [3, 4])
def test_two_concurrent_gets_close_the_session(echo, version: int) -> None:
    session = Polling(echo.port, version)
    # with nothing to send and a 25 s interval, whichever GET arrives first waits,
    # so the two surely overlap; the later one is refused and the waiting one closed
    thread, pending = in_thread(session.get)
    mine = session.get()
    other = joined(thread, pending)
    replies = sorted([mine, other], key=lambda r: r.status)
    assert [r.status for r in replies] == [200, 400]
    close_packet = b"1:1" if version == 3 else b"1"
    assert replies[0].body == close_packet
    assert error_of(replies[1])["code"] == 3
    assert_session_gone(session)


def test_two_concurrent_posts_close_the_session(echo) -> None:
    session = Polling(echo.port, 4)
    with socket.create_connection(("127.0.0.1", echo.port), timeout=5) as first:
        # "100 Continue" proves the server is inside the first POST, reading its body
        first.sendall(("POST /socket.io/?%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Content-Length: 6\r\nExpect: 100-continue\r\n\r\n"
                       % session.query).encode())
        assert first.recv(64) == b"HTTP/1.1 100 Continue\r\n\r\n"
        second = session.post(b"4second")
        assert second.status == 400
        assert error_of(second)["code"] == 3
        first.sendall(b"4first")
        assert first.recv(64).startswith(b"HTTP/1.1 ")
    # the session closed with a close packet, collected by the next GET
    assert session.get_packets() == ["1"]
    assert_session_gone(session)


# found by this test: a dropped pending GET used to swallow the next message; the
# session now closes when the client drops its long poll
def test_message_after_the_client_dropped_its_pending_get_is_not_lost(start_example) -> None:
    server = start_example("engineio_echo.py", "--ping-interval", "1", "--ping-timeout", "5")
    session = Polling(server.port, 4)
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    raw.sendall(("GET /socket.io/?%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                 % session.query).encode())
    raw.close()  # the client (or a proxy) drops the long poll
    # nothing observable tells when the server notices; give it a moment
    threading.Event().wait(0.3)
    post = session.post(b"4not lost")
    assert post.status in (200, 400)
    reply = session.get(timeout=3)
    if reply.status == 400:  # the session was closed: the client knows to reconnect
        assert error_of(reply)["code"] == 1
    else:  # or the message waits for the next GET
        assert reply.body.decode().split(SEP) == ["4not lost"]


# -- oversize and malformed POSTs -------------------------------------------------------

def test_oversize_post_is_413_and_closes_only_that_session(start_example) -> None:
    server = start_example("engineio_echo.py", "--max-http-buffer-size", "1000")
    other = Polling(server.port, 4)
    session = Polling(server.port, 4)
    assert session.info["maxPayload"] == 1000
    reply = session.post(b"4" + b"x" * 4999)
    assert (reply.status, reply.body) == (413, b"")  # empty, as engine.io answers it
    assert_session_gone(session)
    other.post_ok(b"4still here")
    assert other.get_packets() == ["4still here"]


def test_post_of_exactly_max_http_buffer_size_is_accepted(start_example) -> None:
    server = start_example("engineio_echo.py", "--max-http-buffer-size", "1000")
    session = Polling(server.port, 4)
    session.post_ok(b"4" + b"x" * 999)
    assert session.get_packets() == ["4" + "x" * 999]


def test_oversize_chunked_post_is_413(start_example) -> None:
    server = start_example("engineio_echo.py", "--max-http-buffer-size", "1000")
    other = Polling(server.port, 3)
    session = Polling(server.port, 3)
    chunks = iter([b"5000:4", b"y" * 2000, b"y" * 2000, b"y" * 999])
    reply = session.post(chunks)  # type: ignore[arg-type]  # http.client sends it chunked
    assert (reply.status, reply.body) == (413, b"")
    assert_session_gone(session)
    other.post_ok(b"3:4ok")
    assert other.get_packets() == ["4ok"]


MALFORMED_PAYLOADS = [
    (4, b"9nine"),            # unknown packet type
    (4, b"bnot base64!"),     # bad base64
    (4, b"4ok\x1e"),          # empty packet after the separator
    (4, b"\xff\xfe4"),        # not UTF-8
    (4, b"0{}"),              # the client may not send an open packet
    (4, b""),                 # empty
    (3, b"5:4hello"),         # length that does not match
    (3, b"4hello"),           # no length prefix
    (3, b"99:4hi"),           # length past the end
    (3, b"0:"),               # zero length
    (3, b""),                 # empty
]


@pytest.mark.parametrize("version, body", MALFORMED_PAYLOADS)
def test_malformed_payload_is_ok_and_closes_the_session_as_engineio_does(
        echo, version: int, body: bytes) -> None:
    """engine.io answers a malformed payload ``ok`` and closes the session: a waiting GET
    carries the close packet (tests/interop/test_malformed_post.py), with none waiting the
    session is gone at once (a 400 made the client report an error on its POST)."""
    session = Polling(echo.port, version)
    session.post_ok(body)
    assert_session_gone(session)


@pytest.mark.parametrize("version, body", [(4, b"9nine"), (3, b"4hello")])
def test_the_get_after_a_malformed_payload_hears_the_session_is_unknown(
        echo, version: int, body: bytes) -> None:
    session = Polling(echo.port, version)
    session.post_ok(body)
    reply = session.get()
    assert reply.status == 400 and error_of(reply)["code"] == 1


def test_client_close_packet_ends_the_session(echo) -> None:
    session = Polling(echo.port, 4)
    session.post_ok(b"1")
    assert_session_gone(session)


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
    session = Polling(fast.port, 4)
    assert session.get_packets(timeout=2) == ["2"]
    assert 0.3 - EPS <= time.monotonic() - before < 1.0


def test_v4_answering_pings_keeps_the_session_open(lenient) -> None:
    session = Polling(lenient.port, 4)
    started = time.monotonic()
    pings = 0
    while time.monotonic() - started < 2.0:  # past interval + timeout (1.3 s)
        packets = session.get_packets(timeout=3)
        assert set(packets) <= {"2", "6"}
        if "2" in packets:
            pings += 1
            session.post_ok(b"3")
    assert pings >= 2
    session.post_ok(b"4alive")
    assert session.get_packets() in (["4alive"], ["2", "4alive"])


def test_v4_unanswered_ping_closes_the_session(fast) -> None:
    before = time.monotonic()
    session = Polling(fast.port, 4)
    assert session.get_packets(timeout=2) == ["2"]
    # keep polling without answering: the session ends ping_timeout after the ping
    while True:
        reply = session.get(timeout=2)
        if reply.status != 200:
            break
        assert reply.body in (b"6", b"1"), reply.body
        assert time.monotonic() - before < 3.0, "the session outlived its ping timeout"
    assert reply.status == 400
    assert error_of(reply)["code"] == 1
    # the ping went out at open + 0.3 s, the session ended 0.3 s later
    assert 0.6 - EPS <= time.monotonic() - before < 3.0


def test_v3_client_ping_gets_a_pong_and_keeps_the_session(lenient) -> None:
    session = Polling(lenient.port, 3)
    started = time.monotonic()
    while time.monotonic() - started < 2.0:  # past interval + timeout (1.3 s)
        session.post_ok(b"1:2")
        assert session.get_packets(timeout=3) == ["3"]
    session.post_ok(b"6:4alive")
    assert session.get_packets() == ["4alive"]


def test_v3_server_never_pings(fast) -> None:
    session = Polling(fast.port, 3)
    assert session.get_packets(timeout=2) == ["6"]


def test_v3_silent_client_is_closed_after_interval_plus_timeout(fast) -> None:
    before = time.monotonic()
    session = Polling(fast.port, 3)
    while True:
        reply = session.get(timeout=2)
        if reply.status != 200:
            break
        assert v3_decode(reply.body.decode()) in (["6"], ["1"])
        assert time.monotonic() - before < 3.0, "the silent session was kept"
    assert error_of(reply)["code"] == 1
    assert 0.6 - EPS <= time.monotonic() - before < 3.0


@pytest.mark.parametrize("version", [3, 4])
def test_ping_timeout_answers_the_pending_get_with_the_close_packet(start_example,
                                                                     version: int) -> None:
    """As engine.io does: the client then reports "transport close", not an error."""
    server = start_example("engineio_echo.py", "--ping-interval", "1", "--ping-timeout", "0.3")
    session = Polling(server.port, version)
    payloads = []
    while True:  # never answer a ping (4), never ping (3)
        reply = session.get(timeout=3)
        if reply.status != 200:
            break
        payloads.append(reply.body)
        assert len(payloads) < 5, payloads
    assert error_of(reply)["code"] == 1
    if version == 4:
        assert payloads == [b"2", b"1"]
    else:  # the waiting GETs end with a noop each interval, the last one with the close
        assert payloads[-1] == b"1:1"
        assert set(payloads[:-1]) == {b"1:6"}


def test_v4_packet_while_the_pong_is_due_extends_the_ping_deadline_once(start_example) -> None:
    """engine.io 6.6: a packet arriving while the pong is due restarts ping_timeout once."""
    server = start_example("engineio_echo.py", "--ping-interval", "1", "--ping-timeout", "2")
    session = Polling(server.port, 4)
    assert session.get_packets(timeout=3) == ["2"]
    pinged = time.monotonic()  # the server sent the ping a little earlier
    threading.Event().wait(1.0)  # time passing is what is tested
    session.post_ok(b"4still here")  # deadline: ping + 2 s -> now + 2 s (about ping + 3 s)
    threading.Event().wait(max(0.0, pinged + 2.5 - time.monotonic()))
    session.post_ok(b"3")  # past ping + 2 s: only the extended deadline lets this pong in
    assert session.get_packets() == ["4still here"]


@pytest.mark.parametrize("version", [3, 4])
def test_pending_get_gets_the_upgrade_noop_after_engineios_check_interval(echo,
                                                                          version: int) -> None:
    """engine.io answers the GET waiting during an upgrade on its 100 ms upgrade check,
    not at the probe: packets queued meanwhile go on it. socket.io-client's suite counts
    the packets a new connection gets (its "should not emit a packet twice" test failed
    6 runs in 9 when the noop came at once)."""
    session = Polling(echo.port, version)
    thread, pending = in_thread(session.get)  # before or after the probe: the same rule
    with ws_connect(echo.port, "EIO=%d&transport=websocket&sid=%s"
                    % (version, session.sid)) as ws:
        probed = time.monotonic()
        ws.send("2probe")
        assert ws.recv() == "3probe"
        reply = joined(thread, pending)
        waited = time.monotonic() - probed
        assert reply.body == (b"1:6" if version == 3 else b"6")
        assert 0.1 - EPS <= waited < 2.0
        ws.send("5")
        ws.send("4after")
        assert ws.recv() == "4after"


@pytest.mark.parametrize("version, expected", [(3, ["6"]), (4, ["2"])])
def test_waiting_get_returns_within_the_interval(start_example, version: int,
                                                 expected: List[str]) -> None:
    server = start_example("engineio_echo.py", "--ping-interval", "0.5", "--ping-timeout", "5")
    before = time.monotonic()
    session = Polling(server.port, version)
    assert session.get_packets(timeout=3) == expected
    assert 0.5 - EPS <= time.monotonic() - before < 2.0


def test_get_with_queued_messages_returns_at_once(echo) -> None:
    session = Polling(echo.port, 4)
    session.post_ok(b"4now")
    started = time.monotonic()
    assert session.get_packets(timeout=2) == ["4now"]
    assert time.monotonic() - started < 1.0


# -- many polling sessions at once ------------------------------------------------------

def test_concurrent_polling_sessions_keep_their_own_messages(echo) -> None:
    sessions = [Polling(echo.port, 4 if i % 2 else 3) for i in range(20)]
    errors: List[BaseException] = []

    def run(index: int, session: Polling) -> None:
        try:
            received: List[str] = []
            for batch in range(5):
                sent = ["4s%d-%d-%d" % (index, batch, k) for k in range(4)]
                if session.version == 4:
                    session.post_ok(SEP.join(sent).encode())
                else:
                    session.post_ok(v3_encode(*sent).encode())
                while len(received) < 4 * (batch + 1):
                    received += [p for p in session.get_packets() if p != "6"]
            assert received == ["4s%d-%d-%d" % (index, b, k) for b in range(5) for k in range(4)]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, s)) for i, s in enumerate(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
