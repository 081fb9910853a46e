"""A hostile-client fuzzer: a hypothesis state machine that throws valid and malformed
Engine.IO 3/4 and Socket.IO 4/5 packets, websocket frames and HTTP requests at a running
server, while well-behaved clients keep exchanging acks beside it.

The server is ``bench/soak.py --serve`` in a subprocess (logging at WARNING); the
well-behaved clients are six ``sio_core.client.SocketIOClient`` of ``bench/soak.py --url`` in
another (both protocol generations, websocket, polling and the upgrade), exchanging
numbered acked events and room messages until the fuzzing ends.

Asserted: no answer of the server is a 5xx or a websocket close 1011, the server logs no
traceback and no ERROR record, every well-behaved client got every ack (in order, once,
each counted by the server), and when the fuzzing clients have gone the server holds no
session of theirs (nor, once the others have left too, any session, socket, room or
file descriptor) and its memory is back near its start: at most ``OBJECTS_SLACK`` more
live objects (after a collection) and an RSS (after ``malloc_trim``) at most
``RSS_SLACK`` above its start plus ``RSS_CREEP_KB`` per example.

The bound, measured: the first hostile round grows the RSS by some 4-9 MB for good (pools
sized for hundreds of connections at once), so the start is taken after a round of
``WARM_UP_EXAMPLES``. After that the live objects and the descriptors stay exactly where
they were, while the RSS creeps up to a plateau: 44.4, 46.1, 47.5, 47.5, 47.5 MB after
five rounds of 200 examples (0.3 MB per round of 100 at first), much the same with
``PYTHONMALLOC=malloc``; tracemalloc finds under 0.6 MB of Python allocations alive
after 800 examples (half of it the source lines cached for the tracebacks of
a pywsgi bug, fixed since). So the growth is the allocators' high-water mark, not Python objects
piling up. The bound allows ``RSS_CREEP_KB`` per example, at most ``RSS_PLATEAU_KB`` in
all: a long run checks objects and descriptors exactly and the RSS coarsely.

``pytest tests/test_fuzz_hostile.py --fuzz-examples 2000`` runs a longer fuzz (the suite's
run is ``DEFAULT_EXAMPLES`` examples of up to ``STEPS`` steps after the warm-up round,
about 30 s in all).
"""
from __future__ import annotations

import json
import os
import re
import select
import socket
import struct
import subprocess
import sys
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.helpers import ROOT, ServerProcess
from tests.transports.wsclient import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    ConnectionEnded,
    Refused,
    WebSocketClient,
    encode_frame,
    request,
    ws_handshake,
)

SOAK = ROOT / "bench" / "soak.py"
WARM_UP_EXAMPLES = 50
DEFAULT_EXAMPLES = 60
STEPS = 40
LIMIT = 10_000  # the fuzzed server's max_http_buffer_size
BYSTANDERS = 6
PING_INTERVAL, PING_TIMEOUT = 1, 2  # the fuzzed server's (seconds)
OBJECTS_SLACK = 200
RSS_SLACK = 0.10
RSS_CREEP_KB = 25  # per example, up to RSS_PLATEAU_KB: see the module's docstring
RSS_PLATEAU_KB = 12 * 1024


#: tracebacks of bugs this fuzzer found whose fix lies in a file another change owns, each
#: pinned by a strict xfail in test_fuzz_findings.py: delete an entry with its marker.
#: None now (pywsgi's EPIPE on the 400 of a malformed request is fixed in serving.py).
KNOWN_PENDING: List["re.Pattern[str]"] = []


# -- what a hostile client sends -------------------------------------------------------------

EVENTS = st.sampled_from(["msg", "to-room", "join", "leave", "echo", "message", "nope",
                          "connect", "disconnect", "", "\ud83d"])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True),
    st.text(max_size=20), st.sampled_from(["room-1", "room-2", "s-1", "\ud800", "\udfff"]))
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)),
    max_leaves=12)


def _json(value: Any, ascii: bool) -> str:
    """JSON text the way a careless client writes it: NaN, Infinity and lone surrogates as
    they come (escaped with ``ascii``, else raw)."""
    return json.dumps(value, ensure_ascii=ascii)


@st.composite
def sio_packets(draw: Any) -> str:
    """A Socket.IO packet's text: mostly well formed, sometimes not."""
    kind = draw(st.sampled_from("0123456789x"))
    attachments = draw(st.sampled_from(["", "", "1-", "2-", "-1-", "999999-", "x-"])) \
        if kind in "56x" else ""
    nsp = draw(st.sampled_from(["", "", "/chat,", "/nope,", "/,", ",", "/chat"]))
    ack = draw(st.sampled_from(["", "", "1", "42", "999999999999999999999", "-1"]))
    if draw(st.booleans()):
        data = _json([draw(EVENTS), *draw(st.lists(JSON_VALUES, max_size=3))], draw(st.booleans()))
    else:
        data = draw(st.sampled_from([
            "", "[", "]", "{}", '{"token":"x"}', "[]", "[1]", "null", "NaN", "[Infinity]",
            '["msg",NaN]', '["echo",-Infinity]', '["echo","\\ud83d"]', '["a"', "[[[[[[[[",
            '["echo",' + "[" * 200 + "]" * 200 + "]", '{"_placeholder":true,"num":0}',
            '["echo",{"_placeholder":true,"num":5}]', "\x00", "ÿ"]))
    return kind + attachments + nsp + ack + data


@st.composite
def engine_texts(draw: Any) -> str:
    """An Engine.IO text message: a type digit and what follows."""
    return draw(st.one_of(
        st.builds(lambda p: "4" + p, sio_packets()),
        st.sampled_from(["2", "2probe", "3", "3probe", "5", "6", "1", "0", "7", "", "4",
                         "b4AAAA", "bAA==", "b", "9", "22"]),
        st.just(LIMIT + 10).map(lambda size: "4" + "x" * size),  # over the limit
        st.text(max_size=40),
    ))


def ws_frames() -> Any:
    """Raw frames, valid and invalid, as a client would put them on the wire."""
    payload = st.binary(max_size=40)
    return st.one_of(
        st.builds(lambda p: encode_frame(OP_TEXT, p.encode("utf-8", "surrogatepass")),
                  engine_texts()),
        st.builds(lambda p: encode_frame(OP_BINARY, p), payload),
        st.builds(lambda p: encode_frame(OP_BINARY, b"\x04" + p), payload),
        st.builds(lambda op, p: encode_frame(op, p),  # reserved opcodes
                  st.sampled_from([3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF]), payload),
        st.builds(lambda rsv, p: encode_frame(OP_TEXT, p, rsv=rsv),  # reserved bits
                  st.integers(1, 7), payload),
        st.builds(lambda p: encode_frame(OP_TEXT, p, masked=False), payload),  # unmasked
        st.builds(lambda p: encode_frame(OP_TEXT, p),  # bad UTF-8
                  st.sampled_from([b"4\xff\xfe", b"4\xed\xa0\x80", b"4\xc3", b"\x80"])),
        st.builds(lambda p: encode_frame(OP_TEXT, p, fin=False), payload),  # fragments
        st.builds(lambda p: encode_frame(OP_CONT, p, fin=True), payload),
        st.builds(lambda p: encode_frame(OP_CONT, p, fin=False), payload),
        st.builds(lambda p: encode_frame(OP_PING, p), payload),
        st.builds(lambda p: encode_frame(OP_PONG, p), payload),
        st.builds(lambda p: encode_frame(OP_PING, p, fin=False), payload),
        st.just(encode_frame(OP_PING, b"x" * 126)),
        st.builds(lambda p: encode_frame(OP_CLOSE, p), st.sampled_from(
            [b"", b"\x03", struct.pack("!H", 999), struct.pack("!H", 1005),
             struct.pack("!H", 1000) + b"\xff", struct.pack("!H", 4000) + b"bye"])),
        st.just(LIMIT + 1).map(lambda size: encode_frame(OP_TEXT, b"4" + b"y" * size)),
        st.just(b"\x81\xff" + struct.pack("!Q", 1 << 62) + b"mask"),  # absurd length
        st.just(b"\x81\xfe\x00\x64mask" + b"short"),  # truncated: 100 announced, 5 sent
        st.binary(min_size=1, max_size=30),  # garbage
    )


@st.composite
def binary_events(draw: Any) -> bytes:
    """A binary event (``5``/``6`` with N attachments) followed by M binary frames."""
    announced = draw(st.integers(0, 3))
    placeholders = ",".join('{"_placeholder":true,"num":%d}' % draw(st.integers(-1, 4))
                            for _ in range(draw(st.integers(0, 3))))
    kind = draw(st.sampled_from(["45", "46", "5", "4"]))
    ack = draw(st.sampled_from(["", "7"]))
    head = '%s%d-%s["echo",%s]' % (kind, announced, ack, placeholders)
    frames = [encode_frame(OP_TEXT, head.encode())]
    for _ in range(draw(st.integers(0, 4))):
        data = draw(st.binary(max_size=20))
        frames.append(encode_frame(OP_BINARY, draw(st.sampled_from([b"", b"\x04"])) + data))
    return b"".join(frames)


QUERY_VALUES = {
    "EIO": ["3", "4", "5", "", "x", "-1", "04"],
    "transport": ["polling", "websocket", "flashsocket", "", "POLLING"],
    "j": ["0", "1", "x", "-1", "99999999999999999999", ""],
    "b64": ["1", "0", "true", ""],
    "t": ["abc", ""],
    "sid": ["", "x", "A" * 300, "%00", "%zz"],
    "x%zz": ["1"],
}


#: in a drawn request, stands for the sid of a polling session the fuzzer opened
SID = "{sid}"


@st.composite
def queries(draw: Any) -> str:
    """A query string built from the keys Engine.IO reads (and some it does not)."""
    parts = []
    for key in draw(st.lists(st.sampled_from(sorted(QUERY_VALUES)), max_size=5)):
        values = QUERY_VALUES[key] + ([SID] * 3 if key == "sid" else [])
        parts.append("%s=%s" % (key, draw(st.sampled_from(values))))
    if draw(st.booleans()):
        parts[:0] = ["EIO=%s" % draw(st.sampled_from("34")), "transport=polling"]
    return "&".join(parts)


BODIES = st.one_of(
    st.binary(max_size=60),
    st.sampled_from([b"1:1", b"5:42[]", b"2:40", b"99:4x", b":4", b"1", b"0:", b"4:4\xff\xfe",
                     b"\x00\x01\xff4hello", b"\x01\x03\xff\x04abc", b"d=%22%7B%7D%22",
                     b"d=1:6", b"d=", b"d=%zz", b"4hello\x1e4world", b"\x1e\x1e",
                     b'42["msg","s-x",1]', b"1", b"6", b"2probe"]),
    st.just(LIMIT + 1).map(lambda size: b"4" * size),  # over the limit
    st.builds(lambda t: t.encode("utf-8", "surrogatepass"), engine_texts()),
)


@st.composite
def http_requests(draw: Any) -> bytes:
    """One raw HTTP request, well formed or not."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(min_size=1, max_size=80)) + b"\r\n\r\n"
    method = draw(st.sampled_from(["GET", "POST", "POST", "PUT", "DELETE", "OPTIONS", "HEAD",
                                   "PATCH", "G@T", "BREW"]))
    path = draw(st.sampled_from(["/socket.io/", "/socket.io/", "/socket.io", "/socket.io/x",
                                 "/", "//socket.io/", "/socket.io/socket.io.js", "*"]))
    query = draw(queries())
    body = draw(BODIES) if method != "GET" or draw(st.booleans()) else b""
    headers = ["Host: 127.0.0.1"]
    ctype = draw(st.sampled_from([None, "text/plain;charset=UTF-8", "application/octet-stream",
                                  "application/x-www-form-urlencoded", "application/json",
                                  "garbage/\x7f"]))
    if ctype:
        headers.append("Content-Type: " + ctype)
    length = draw(st.sampled_from(["exact", "exact", "short", "long", "none", "bad",
                                   "chunked", "badchunk"]))
    if length == "exact":
        headers.append("Content-Length: %d" % len(body))
    elif length == "short":  # the body goes on past the announced length
        headers.append("Content-Length: %d" % max(0, len(body) - 3))
    elif length == "long":  # truncated: the body never comes whole
        headers.append("Content-Length: %d" % (len(body) + 50))
    elif length == "bad":
        headers.append("Content-Length: %s" % draw(st.sampled_from(["-1", "x", "1e3", ""])))
    elif length == "chunked":
        headers.append("Transfer-Encoding: chunked")
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n"
    elif length == "badchunk":
        headers.append("Transfer-Encoding: chunked")
        body = b"zz\r\n" + body
    if draw(st.booleans()):
        headers.append(draw(st.sampled_from([
            "Origin: http://evil.example", "Connection: close", "Upgrade: websocket",
            "Accept-Encoding: gzip, deflate", "Cookie: io=" + "x" * 100, "X: " + "y" * 9000])))
    head = "%s %s%s HTTP/1.1\r\n%s\r\n\r\n" % (method, path, "?" + query if query else "",
                                            "\r\n".join(headers))
    return head.encode("latin-1", "replace") + body


# -- reading what the server answers ---------------------------------------------------------

class Answers:
    """Raw connections whose answers are checked as they come in, without blocking."""

    def __init__(self) -> None:
        self.open: List[Tuple[socket.socket, bytearray]] = []
        self.problems: List[str] = []
        self.statuses: Dict[int, int] = {}

    def add(self, sock: socket.socket) -> None:
        self.open.append((sock, bytearray()))

    def _check(self, data: bytes) -> None:
        for match in re.finditer(rb"HTTP/1\.[01] (\d{3})", data):
            status = int(match.group(1))
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status >= 500:
                self.problems.append("HTTP %d: %r" % (status, data[:300]))
        if b"Traceback" in data:
            self.problems.append("a traceback in an answer: %r" % data[:300])

    def poll(self, wait: float = 0.0) -> None:
        """Read what has arrived; check and forget the connections that have ended."""
        if not self.open:
            return
        readable, _, _ = select.select([s for s, _ in self.open], [], [], wait)
        keep = []
        for sock, data in self.open:
            ended = False
            if sock in readable:
                try:
                    chunk = sock.recv(65536)
                    ended = not chunk
                    data += chunk
                except (BlockingIOError, socket.timeout):
                    pass
                except OSError:
                    ended = True
            if ended:
                self._check(bytes(data))
                sock.close()
            else:
                keep.append((sock, data))
        self.open = keep

    def close_all(self) -> None:
        """Check what each connection got so far, then close it."""
        for sock, data in self.open:
            self._check(bytes(data))
            sock.close()
        self.open = []


def _reset(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class HostileClients(RuleBasedStateMachine):
    """Hostile connections to ``port``: websockets, polling sessions, raw HTTP."""

    port = 0

    def __init__(self) -> None:
        super().__init__()
        self.answers = Answers()
        #: open websockets (None once the server has refused or closed one): what the
        #: rules draw from must not depend on the server's answers, or hypothesis could
        #: not replay an example
        self.websockets: List[Optional[WebSocketClient]] = []
        self.sids: List[str] = []

    # -- websockets
    @rule(eio=st.sampled_from([3, 4, 4]), extra=st.sampled_from(
        ["", "", "&b64=1", "&sid=nope", "&j=1", "&EIO=9"]))
    def open_websocket(self, eio: int, extra: str) -> None:
        self.websockets.append(None)
        result = ws_handshake(self.port, "EIO=%d&transport=websocket%s" % (eio, extra))
        if isinstance(result, Refused):
            assert result.status < 500, result
            return
        result.settimeout(5)
        try:
            first = result.recv()
        except (ConnectionEnded, OSError, AssertionError):
            result.close(None)
            return
        assert isinstance(first, str) and first.startswith("0{"), first
        result.sock.setblocking(False)
        self.websockets[-1] = result

    def _drain(self, ws: WebSocketClient) -> bool:
        """Read the server's frames that have arrived; False once it has closed."""
        try:
            while True:
                chunk = ws.sock.recv(65536)
                if not chunk:
                    return False
                ws._buffer += chunk
        except (BlockingIOError, socket.timeout):
            pass
        except OSError:
            return False
        data = bytes(ws._buffer)
        ws._buffer = b""
        index = 0
        while index + 2 <= len(data):  # find close frames and their codes
            b0, b1 = data[index], data[index + 1]
            length, head = b1 & 0x7F, 2
            if length == 126:
                if index + 4 > len(data):
                    break
                length, head = struct.unpack("!H", data[index + 2:index + 4])[0], 4
            elif length == 127:
                if index + 10 > len(data):
                    break
                length, head = struct.unpack("!Q", data[index + 2:index + 10])[0], 10
            if index + head + length > len(data):
                ws._buffer = data[index:]
                break
            if b0 & 0x0F == OP_CLOSE and length >= 2:
                code = struct.unpack("!H", data[index + head:index + head + 2])[0]
                if code == 1011:
                    self.answers.problems.append("websocket closed with 1011")
            index += head + length
        return True

    @precondition(lambda self: self.websockets)
    @rule(data=st.data(), message=engine_texts())
    def websocket_text(self, data: Any, message: str) -> None:
        self._send(data, encode_frame(OP_TEXT, message.encode("utf-8", "surrogatepass")))

    @precondition(lambda self: self.websockets)
    @rule(data=st.data(), frames=st.lists(ws_frames(), min_size=1, max_size=3))
    def websocket_frames(self, data: Any, frames: List[bytes]) -> None:
        self._send(data, b"".join(frames))

    def _send(self, data: Any, raw: bytes) -> None:
        index = data.draw(st.integers(0, len(self.websockets) - 1))
        ws = self.websockets[index]
        if ws is None:
            return
        try:
            ws.sock.sendall(raw)
        except (BlockingIOError, OSError):
            pass
        if not self._drain(ws):
            ws.sock.close()
            self.websockets[index] = None

    @precondition(lambda self: self.websockets)
    @rule(data=st.data(), how=st.sampled_from(["clean", "reset", "fin"]))
    def websocket_close(self, data: Any, how: str) -> None:
        ws = self.websockets.pop(data.draw(st.integers(0, len(self.websockets) - 1)))
        if ws is None:
            return
        if how == "reset":
            _reset(ws.sock)
        elif how == "fin":
            ws.sock.close()
        else:
            ws.close(1000)

    @precondition(lambda self: self.websockets)
    @rule(data=st.data(), frames=binary_events())
    def websocket_binary_event(self, data: Any, frames: bytes) -> None:
        self._send(data, frames)

    @rule(eio=st.sampled_from([3, 4]), which=st.integers(0, 7), messages=st.lists(
        st.sampled_from(["2probe", "5", "6", "2", "3probe", "4x", "1", "garbage"]), max_size=3))
    def upgrade(self, eio: int, which: int, messages: List[str]) -> None:
        """A websocket that claims a polling session (the fuzzer's, or an unknown one)."""
        self.websockets.append(None)
        sid = self.sids[which % len(self.sids)] if self.sids else "nope"
        result = ws_handshake(self.port, "EIO=%d&transport=websocket&sid=%s" % (eio, sid))
        if isinstance(result, Refused):
            assert result.status < 500, result
            return
        try:
            result.send_many(list(messages))
        except OSError:
            result.sock.close()
            return
        result.sock.setblocking(False)
        self.websockets[-1] = result
        if not self._drain(result):
            result.sock.close()
            self.websockets[-1] = None

    # -- polling
    @rule(eio=st.sampled_from([3, 4]), extra=st.sampled_from(["", "&b64=1", "&j=0"]))
    def open_polling(self, eio: int, extra: str) -> None:
        reply = request(self.port, "GET", "EIO=%d&transport=polling%s" % (eio, extra))
        assert reply.status < 500, reply
        match = re.search(rb'"sid":"([^"]+)"', reply.body)
        if reply.status == 200 and match:
            self.sids.append(match.group(1).decode())

    @rule(raw=st.data())
    def http_request(self, raw: Any) -> None:
        payload = raw.draw(http_requests())
        sid = self.sids[raw.draw(st.integers(0, 7)) % len(self.sids)] if self.sids else "x"
        payload = payload.replace(SID.encode(), sid.encode())
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        try:
            sock.sendall(payload)
        except OSError:
            pass
        sock.setblocking(False)
        self.answers.add(sock)

    @invariant()
    def answers_are_read(self) -> None:
        self.answers.poll()
        assert self.answers.problems == []

    def teardown(self) -> None:
        for ws in self.websockets:
            if ws is not None:
                ws.sock.close()
        self.answers.poll(0.2)
        self.answers.close_all()
        assert self.answers.problems == []


# -- the test --------------------------------------------------------------------------------

def server_stats(port: int) -> Dict[str, Any]:
    reply = request(port, "GET", "", path="/soak-stats", timeout=30)
    assert reply.status == 200
    return json.loads(reply.body)


def settled_stats(port: int, sessions: int, timeout: float) -> Dict[str, Any]:
    """The server's figures once at most ``sessions`` sessions are left and the closed ones
    have left the heartbeat schedule (which holds each until its next due time)."""
    deadline = time.monotonic() + timeout
    while server_stats(port)["sessions"] > sessions and time.monotonic() < deadline:
        time.sleep(0.25)  # polling the server's state: there is no event to await
    time.sleep(PING_INTERVAL + PING_TIMEOUT)  # a time the server's state does not announce
    return server_stats(port)


def log_records(text: str) -> List[str]:
    """The server's log cut into records (a record starts with its level name)."""
    records: List[str] = []
    for line in text.splitlines():
        if re.match(r"(DEBUG|INFO|WARNING|ERROR|CRITICAL) |Traceback", line) or not records:
            records.append(line)
        else:
            records[-1] += "\n" + line
    return records


@pytest.fixture
def fuzzed_server() -> Iterator[ServerProcess]:
    server = ServerProcess(SOAK, "--serve", "--ping-interval", str(PING_INTERVAL),
                           "--ping-timeout", str(PING_TIMEOUT),
                           "--max-http-buffer-size", str(LIMIT), "--log-level", "WARNING")
    yield server
    server.stop()


class Bystanders:
    """``bench/soak.py --url`` without drops: well-behaved clients until stdin closes."""

    def __init__(self, port: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(SOAK), "--url", "http://127.0.0.1:%d" % port, "--json",
             "--clients", str(BYSTANDERS), "--until-eof", "--drop-rate", "0", "--pause", "0.1"],
            cwd=str(ROOT), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=str(ROOT)))

    def finish(self) -> Dict[str, Any]:
        out, err = self.proc.communicate(b"", timeout=120)
        lines = out.decode().strip().splitlines()
        assert lines, "the bystanders printed nothing: " + err.decode()[-5000:]
        assert "Traceback" not in err.decode(), err.decode()[-5000:]
        return json.loads(lines[-1])

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=10)


def fuzz(port: int, examples: int) -> None:
    """Run the state machine for ``examples`` examples against the server on ``port``."""
    HostileClients.port = port
    run_state_machine_as_test(HostileClients, settings=settings(
        max_examples=examples, stateful_step_count=STEPS, deadline=None,
        suppress_health_check=list(HealthCheck)))


def test_hostile_clients_do_not_hurt_the_others(fuzzed_server, fuzz_examples) -> None:
    port = fuzzed_server.port
    examples = fuzz_examples or DEFAULT_EXAMPLES
    idle = server_stats(port)
    bystanders = Bystanders(port)
    try:
        deadline = time.monotonic() + 60
        while server_stats(port)["sockets"] < BYSTANDERS and time.monotonic() < deadline:
            time.sleep(0.2)  # polling the server's state: there is no event to await
        # a first round sizes the allocator's pools; memory is measured from there
        fuzz(port, WARM_UP_EXAMPLES)
        start = settled_stats(port, BYSTANDERS, 30)
        assert start["sockets"] == BYSTANDERS
        fuzz(port, examples)
        after = settled_stats(port, BYSTANDERS, 30)  # the fuzzing clients have gone
        figures = bystanders.finish()
    finally:
        bystanders.kill()
    end = settled_stats(port, 0, 30)  # everyone has gone
    # the server logged no unhandled exception and no error
    log = fuzzed_server.stop()
    bad = [r for r in log_records(log) if ("Traceback" in r or r.startswith(("ERROR", "CRITICAL")))
           and not any(known.search(r) for known in KNOWN_PENDING)]
    assert bad == [], "\n".join(bad[:5])
    assert fuzzed_server.proc.returncode in (0, -15), log[-3000:]
    summary = json.dumps(figures, indent=1)
    # every well-behaved client got every ack, in order, once, and the server counted it
    assert figures["sent"] > 20 * BYSTANDERS, summary
    assert figures["acked"] == figures["sent"], summary
    assert figures.get("in_flight_at_drop", 0) == 0, summary
    assert figures["disconnect_reasons"] == {"io client disconnect": BYSTANDERS}, summary
    assert figures["broken"] == [], summary  # bench/soak.py's failures(): losses, duplicates...
    assert figures["errors"] == [], summary
    # nothing of the fuzzing clients left, memory back near its start
    assert (after["sessions"], after["sockets"]) == (BYSTANDERS, BYSTANDERS), after
    assert after["objects"] <= start["objects"] + OBJECTS_SLACK, (start, after)
    creep = min(examples * RSS_CREEP_KB, RSS_PLATEAU_KB)
    assert after["rss_kb"] <= start["rss_kb"] * (1 + RSS_SLACK) + creep, (start, after)
    # nothing of anyone left once all have gone
    assert (end["sessions"], end["sockets"], end["rooms"], end["fds"]) == (0, 0, 0, idle["fds"]), (
        idle, end)
