"""permessage-deflate on the websocket edge, over real sockets, with raw frames.

The tests are named after the Autobahn|Testsuite sections they follow (our own tests,
not the suite): 12.x sends and echoes messages of growing sizes with compression, 13.x
repeats that under the parameter combinations a client can offer. An Engine.IO echo
server (``examples/engineio_echo.py --per-message-deflate``) answers each message
packet with itself: compressed when at or over the threshold (1024 bytes), plain below.
"""
from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pytest

from tests.helpers import INTEROP, ServerProcess
from tests.transports.wsclient import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    Refused,
    WebSocketClient,
    encode_frame,
    ws_handshake,
)

TAIL = b"\x00\x00\xff\xff"
LIMIT = 1 << 20


def echo_server(*args: str, **deflate: object) -> ServerProcess:
    return ServerProcess("engineio_echo.py", "--ping-interval", "300", "--ping-timeout", "60",
                         "--per-message-deflate", json.dumps(deflate or True), *args)


@pytest.fixture(scope="module")
def echo() -> Iterator[ServerProcess]:
    """The default: threshold 1024, no context takeover on the server's side."""
    server = echo_server("--max-http-buffer-size", str(LIMIT))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def compressing_all() -> Iterator[ServerProcess]:
    """A server that keeps its context and compresses every message (threshold 0)."""
    server = echo_server("--max-http-buffer-size", str(LIMIT), threshold=0,
                         server_no_context_takeover=False)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def keeping() -> Iterator[ServerProcess]:
    """A server that keeps its compression context (socket.io 2's ``ws`` did)."""
    server = echo_server("--max-http-buffer-size", str(LIMIT), server_no_context_takeover=False)
    yield server
    server.stop()


class DeflateClient:
    """A raw websocket client with its own permessage-deflate state."""

    def __init__(self, ws: WebSocketClient, answer: str, client_bits: int = 15,
                 client_reset: bool = False) -> None:
        self.ws = ws
        self.answer = answer
        params = dict(p.strip().partition("=")[::2] for p in answer.split(";")[1:])
        self.server_reset = "server_no_context_takeover" in params
        self.client_reset = client_reset or "client_no_context_takeover" in params
        self.client_bits = int(params.get("client_max_window_bits") or client_bits)
        self.server_bits = int(params.get("server_max_window_bits") or 15)
        self._compressor: Optional[object] = None
        self._decompressor: Optional[object] = None

    # -- sending
    def deflate(self, data: bytes) -> bytes:
        compressor = self._compressor
        if compressor is None or self.client_reset:
            compressor = self._compressor = zlib.compressobj(
                6, zlib.DEFLATED, -max(self.client_bits, 9))
        out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)  # type: ignore
        assert out.endswith(TAIL)
        return out[:-4]

    def send(self, data: bytes, opcode: int = OP_TEXT, fragment: int = 0) -> None:
        payload = self.deflate(data)
        if not fragment:
            self.ws.sock.sendall(encode_frame(opcode, payload, rsv=4))
            return
        pieces = [payload[i:i + fragment] for i in range(0, len(payload), fragment)]
        self.ws.sock.sendall(b"".join(
            encode_frame(opcode if i == 0 else OP_CONT, piece, fin=i == len(pieces) - 1,
                         rsv=4 if i == 0 else 0) for i, piece in enumerate(pieces)))

    # -- receiving
    def recv_raw(self) -> Tuple[int, int, bytes]:
        """The next frame: its first byte's flags (RSV1 0x40), opcode, payload."""
        b0, b1 = self.ws._exact(2)
        assert not b1 & 0x80, "the server masked a frame"
        assert not b0 & 0x30, "the server set RSV2 or RSV3"
        assert b0 & 0x80, "the server fragmented a message"
        length = b1 & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self.ws._exact(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self.ws._exact(8))
        return b0 & 0x40, b0 & 0x0F, self.ws._exact(length)

    def recv(self) -> Tuple[bool, int, bytes]:
        """The next message: whether it came compressed, its opcode, its inflated data."""
        rsv1, opcode, payload = self.recv_raw()
        if not rsv1:
            return False, opcode, payload
        decompressor = self._decompressor
        if decompressor is None or self.server_reset:
            decompressor = self._decompressor = zlib.decompressobj(-self.server_bits)
        return True, opcode, decompressor.decompress(payload + TAIL)  # type: ignore

    def expect_failed(self, code: int) -> None:
        """The server's next frame closes with ``code``, then the connection ends."""
        try:
            assert self.recv_raw() == (0, OP_CLOSE, struct.pack("!H", code))
            assert self.ws.at_eof()
        finally:
            self.ws.sock.close()

    def close(self) -> None:
        self.ws.send_frame(OP_CLOSE, struct.pack("!H", 1000))
        assert self.recv_raw() == (0, OP_CLOSE, struct.pack("!H", 1000))
        assert self.ws.at_eof()
        self.ws.sock.close()


def connect(server: ServerProcess, offer: Optional[str] = "permessage-deflate; "
            "client_max_window_bits", client_bits: int = 15,
            client_reset: bool = False) -> DeflateClient:
    """A protocol 4 websocket session offering ``offer``; its open packet read."""
    headers: Dict[str, str] = {}
    if offer is not None:
        headers["Sec-WebSocket-Extensions"] = offer
    ws = ws_handshake(server.port, "EIO=4&transport=websocket", headers)
    assert not isinstance(ws, Refused), ws
    ws.settimeout(10)
    client = DeflateClient(ws, ws.headers.get("sec-websocket-extensions", ""), client_bits,
                           client_reset)
    _, opcode, first = client.recv()  # compressed only by a server with threshold 0
    assert opcode == OP_TEXT and first.startswith(b"0{")
    return client


def message(size: int, seed: int = 0) -> bytes:
    """An Engine.IO message packet of ``size`` bytes: ``4`` then compressible JSON-ish
    text (Autobahn 12.1 sends JSON-like text too)."""
    words = b'{"id":%d,"name":"user","tags":["a","b"],"v":0.5},' % seed
    return (b"4" + words * (size // len(words) + 1))[:size]


# -- 12 compression with the default parameters --------------------------------------------

@pytest.mark.parametrize("size", [16, 64, 256, 1023, 1024, 4096, 8192, 16384, 65536, 131072])
def test_12_1_x_text_messages_of_growing_size(echo, size: int) -> None:
    """Autobahn 12.1.1–12.1.11 (sizes 16 B to 128 KiB, several messages each): every
    compressed message is echoed; at or over 1024 bytes the echo comes compressed,
    under it plain."""
    client = connect(echo)
    assert client.answer == "permessage-deflate; server_no_context_takeover"
    for seed in range(5):
        data = message(size, seed)
        client.send(data)
        compressed, opcode, echoed = client.recv()
        assert (compressed, opcode, echoed) == (size >= 1024, OP_TEXT, data)
    client.close()


@pytest.mark.parametrize("size", [64, 4096, 65536])
def test_12_2_x_binary_messages(echo, size: int) -> None:
    """Autobahn 12.2.x (binary payloads): echoed as binary, compressed over the threshold."""
    data = os.urandom(size // 2) * 2
    client = connect(echo)
    client.send(data, OP_BINARY)
    assert client.recv() == (size >= 1024, OP_BINARY, data)
    client.close()


@pytest.mark.parametrize("fragment", [1, 64, 1000])
def test_12_5_x_compressed_messages_in_fragments(echo, fragment: int) -> None:
    """Autobahn 12.5.x-like: a compressed message split in fragments (RSV1 on the first
    only), with a ping between two of them answered at once."""
    client = connect(echo)
    data = b"4" + os.urandom(4000).hex().encode()  # compresses to about half
    payload = client.deflate(data)
    pieces = [payload[i:i + fragment] for i in range(0, len(payload), fragment)]
    assert len(pieces) > 2
    client.ws.sock.sendall(encode_frame(OP_TEXT, pieces[0], fin=False, rsv=4)
                           + encode_frame(OP_PING, b"mid"))
    assert client.recv_raw() == (0, OP_PONG, b"mid")
    client.ws.sock.sendall(b"".join(
        encode_frame(OP_CONT, piece, fin=i == len(pieces) - 2)
        for i, piece in enumerate(pieces[1:])))
    assert client.recv() == (True, OP_TEXT, data)
    client.close()


def test_12_x_the_server_frame_stands_alone_without_context(echo) -> None:
    """server_no_context_takeover: each compressed echo inflates with a fresh
    decompressor, and the same message twice compresses to the same bytes."""
    client = connect(echo)
    data = message(3000)
    frames = []
    for _ in range(2):
        client.send(data)
        rsv1, opcode, payload = client.recv_raw()
        assert rsv1 and opcode == OP_TEXT
        assert zlib.decompressobj(-15).decompress(payload + TAIL) == data
        frames.append(payload)
    assert frames[0] == frames[1]
    client.close()


def test_12_x_context_takeover_when_the_server_keeps_it(keeping) -> None:
    """With server_no_context_takeover=False (ws's default) the answer keeps the context:
    a repeated message compresses to a back-reference."""
    client = connect(keeping)
    assert client.answer == "permessage-deflate"
    data = b"4" + os.urandom(1500).hex().encode()
    keep = zlib.decompressobj(-15)  # one decompressor: the server's context is kept
    sizes = []
    for _ in range(3):
        client.send(data)
        rsv1, _, payload = client.recv_raw()
        assert rsv1
        assert keep.decompress(payload + TAIL) == data
        sizes.append(len(payload))
    assert sizes[1] < sizes[0] // 4 and sizes[2] < sizes[0] // 4
    client.close()


def test_12_x_client_context_takeover_is_honoured(echo) -> None:
    """The client keeps its context (it did not offer client_no_context_takeover): its
    second message refers back to the first, and the server inflates it."""
    client = connect(echo)
    data = message(5000, 7)
    client.send(data)
    assert client.recv() == (True, OP_TEXT, data)
    second = client.deflate(data)
    assert len(second) < 100
    client.ws.sock.sendall(encode_frame(OP_TEXT, second, rsv=4))
    assert client.recv() == (True, OP_TEXT, data)
    client.close()


# -- 13 parameter combinations --------------------------------------------------------------

@pytest.mark.parametrize("offer, answer, client_bits, client_reset", [
    # the bare offer
    ("permessage-deflate", "permessage-deflate; server_no_context_takeover", 15, False),
    # client_no_context_takeover offered, echoed
    ("permessage-deflate; client_no_context_takeover",
     "permessage-deflate; server_no_context_takeover; client_no_context_takeover", 15, True),
    # the client's window at 9 and 15 bits
    ("permessage-deflate; client_max_window_bits=9",
     "permessage-deflate; server_no_context_takeover; client_max_window_bits=9", 9, False),
    ("permessage-deflate; client_max_window_bits=15",
     "permessage-deflate; server_no_context_takeover; client_max_window_bits=15", 15, False),
    # both
    ("permessage-deflate; client_no_context_takeover; client_max_window_bits=9",
     "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
     "client_max_window_bits=9", 9, True),
    # the server's window limited by the client
    ("permessage-deflate; server_max_window_bits=10",
     "permessage-deflate; server_no_context_takeover; server_max_window_bits=10", 15, False),
    # a list of offers, the first unacceptable (window 8), the second taken
    ("permessage-deflate; server_max_window_bits=8, permessage-deflate; "
     "client_max_window_bits", "permessage-deflate; server_no_context_takeover", 15, False),
    # a malformed first offer (a parameter repeated) declined alone (RFC 7692, section 7)
    ("permessage-deflate; client_no_context_takeover; client_no_context_takeover, "
     "permessage-deflate; client_max_window_bits=11",
     "permessage-deflate; server_no_context_takeover; client_max_window_bits=11", 11, False),
])
def test_13_x_parameter_combinations(echo, offer: str, answer: str, client_bits: int,
                                     client_reset: bool) -> None:
    """Autobahn 13.1–13.7-like: each offer is answered as RFC 7692 says, and messages
    around the threshold go both ways under what was agreed."""
    client = connect(echo, offer, client_bits, client_reset)
    assert client.answer == answer
    for size in (100, 1024, 20000, 20000, 70000):
        data = message(size, size)
        client.send(data)
        assert client.recv() == (size >= 1024, OP_TEXT, data)
    client.close()


# The offers the real fuzzingclient (Autobahn|Testsuite 25.10.1) sent in 13.1–13.7, each
# followed by the answer it got in the run docs/conformance.md records (all 216 cases of 12
# and 13 OK). What it offers: client_no_context_takeover and client_max_window_bits always,
# server_no_context_takeover and server_max_window_bits=9/15 as the case asks.
_AUTOBAHN = "permessage-deflate; client_no_context_takeover; client_max_window_bits"
_ANSWERED = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"


@pytest.mark.parametrize("case, offer, answer", [
    ("13.1", _AUTOBAHN, _ANSWERED),
    ("13.2", _AUTOBAHN + "; server_no_context_takeover", _ANSWERED),
    ("13.3", _AUTOBAHN + "; server_max_window_bits=9", _ANSWERED + "; server_max_window_bits=9"),
    ("13.4", _AUTOBAHN + "; server_max_window_bits=15",
     _ANSWERED + "; server_max_window_bits=15"),
    ("13.5", _AUTOBAHN + "; server_no_context_takeover; server_max_window_bits=9",
     _ANSWERED + "; server_max_window_bits=9"),
    ("13.6", _AUTOBAHN + "; server_no_context_takeover; server_max_window_bits=15",
     _ANSWERED + "; server_max_window_bits=15"),
    ("13.7", _AUTOBAHN + "; server_no_context_takeover; server_max_window_bits=9, "
     + _AUTOBAHN + "; server_no_context_takeover, " + _AUTOBAHN,
     _ANSWERED + "; server_max_window_bits=9"),
])
@pytest.mark.parametrize("server_name", ["echo", "compressing_all"])
def test_13_x_the_fuzzingclients_offers(request: pytest.FixtureRequest, server_name: str,
                                        case: str, offer: str, answer: str) -> None:
    """Autobahn 13.1–13.7 with the suite's own offers: the answer it accepted, then
    Engine.IO message packets of JSON text of growing sizes (16 B to 128 KiB, fragmented
    from 8 KiB on) echoed and inflated with the window the answer states; from the
    default server (threshold 1024, no context kept) and from one that keeps its context
    and compresses every message."""
    server = request.getfixturevalue(server_name)
    threshold = 1024 if server_name == "echo" else 0
    if threshold == 0 and "server_no_context_takeover" not in offer.split(",")[0]:
        answer = answer.replace(" server_no_context_takeover;", "")  # it keeps its context
    client = connect(server, offer, client_reset=True)
    assert client.answer == answer, case
    text = json.dumps([{"id": i, "name": "item %d" % i, "tags": ["a", "b", str(i % 7)]}
                       for i in range(4000)]).encode()
    position = 0
    for size in (16, 64, 256, 1024, 4096, 8192, 16384, 65536, 131072):
        for _ in range(3):
            data = b"4" + (text * 2)[position:position + size - 1]  # a message packet
            position = (position + size) % len(text)
            client.send(data, fragment=256 if size >= 8192 else 0)
            assert client.recv() == (size >= threshold, OP_TEXT, data), (case, size)
    client.close()


def test_13_x_no_offer_no_extension(echo) -> None:
    """A client that offers nothing gets no extension: plain frames both ways, and RSV1
    from it is a protocol error (1002)."""
    client = connect(echo, None)
    assert client.answer == ""
    data = message(5000)
    client.ws.send(data.decode())
    assert client.recv() == (False, OP_TEXT, data)
    client.ws.send_frame(OP_TEXT, client.deflate(data), rsv=4)
    client.expect_failed(1002)


def test_13_x_offers_it_cannot_accept_are_declined(echo) -> None:
    """An offer with an unknown parameter (or a window of 8 for the server) is declined."""
    for offer in ("permessage-deflate; foo=1", "permessage-deflate; server_max_window_bits=8",
                  "x-webkit-deflate-frame"):
        client = connect(echo, offer)
        assert client.answer == ""
        client.ws.sock.close()


# -- limits and errors ----------------------------------------------------------------------

def test_a_decompression_bomb_is_refused_with_1009(echo) -> None:
    """A few KiB inflating to 32 MiB (32 times the limit): the connection is failed with
    1009, the server stopping at the limit (it keeps serving others)."""
    client = connect(echo)
    bomb = client.deflate(b"4" + b"\x00" * (32 << 20))
    assert len(bomb) < 64 * 1024
    client.ws.sock.sendall(encode_frame(OP_BINARY, bomb, rsv=4))
    client.expect_failed(1009)
    other = connect(echo)
    other.send(message(2000))
    assert other.recv() == (True, OP_TEXT, message(2000))
    other.close()


def test_a_message_just_at_the_limit_inflates(echo) -> None:
    """A compressed message inflating to exactly the limit is accepted."""
    client = connect(echo)
    data = message(LIMIT)
    client.send(data)
    assert client.recv() == (True, OP_TEXT, data)
    client.close()


@pytest.mark.parametrize("opcode, payload", [(OP_PING, b"x"), (OP_CLOSE, b"\x03\xe8")])
def test_rsv1_on_a_control_frame_fails_the_connection(echo, opcode: int,
                                                      payload: bytes) -> None:
    client = connect(echo)
    client.ws.send_frame(opcode, payload, rsv=4)
    client.expect_failed(1002)


def test_data_that_is_not_deflate_is_1007(echo) -> None:
    client = connect(echo)
    client.ws.send_frame(OP_TEXT, b"\xff" * 16, rsv=4)
    client.expect_failed(1007)


def test_server_pings_and_small_packets_stay_plain(echo) -> None:
    """Control frames and packets under the threshold are never compressed."""
    client = connect(echo)
    client.ws.send_frame(OP_PING, b"p")
    assert client.recv_raw() == (0, OP_PONG, b"p")
    frames: List[Tuple[bool, int, bytes]] = []
    for size in (10, 1000):
        client.send(message(size))
        frames.append(client.recv())
    assert [f[0] for f in frames] == [False, False]
    client.close()


# -- socket.compress(False) and broadcasts -----------------------------------------------------

@pytest.fixture(scope="module")
def sio() -> Iterator[ServerProcess]:
    """A Socket.IO server with permessage-deflate (tests/interop/deflate_app.py)."""
    server = ServerProcess(str(INTEROP / "deflate_app.py"))
    yield server
    server.stop()


def sio_client(server: ServerProcess) -> DeflateClient:
    """A Socket.IO 5 client on a raw websocket with deflate agreed, connected to ``/``."""
    client = connect(server)
    client.ws.send("40")
    compressed, _, answer = client.recv()
    assert not compressed and answer.startswith(b"40{")
    return client


def test_compress_false_sends_plain_frames(sio) -> None:
    """``socket.compress(False).emit`` goes uncompressed however big; the default goes
    compressed over the threshold."""
    client = sio_client(sio)
    expected = json.dumps(["big", {"items": ["item-%06d" % i for i in range(2000 // 14)]}],
                          separators=(",", ":")).encode()
    client.ws.send('42["ask-big",2000]')
    assert client.recv() == (True, OP_TEXT, b"42" + expected)
    client.ws.send('42["ask-big",2000,false]')
    assert client.recv() == (False, OP_TEXT, b"42" + expected)
    client.close()


@pytest.mark.parametrize("compress", [True, False])
def test_a_broadcast_reaches_deflate_and_plain_clients(sio, compress: bool) -> None:
    """One broadcast to a client with deflate and one without: each gets the frame its
    connection agreed (the writer's frame cache keeps them apart), and
    ``compress(False)`` keeps it plain for both."""
    deflating = sio_client(sio)
    plain = connect(sio, None)
    plain.ws.send("40")
    assert plain.recv()[2].startswith(b"40{")
    deflating.ws.send('42["bcast-big",4000,%s]' % json.dumps(compress))
    got_deflating = deflating.recv()
    got_plain = plain.recv()
    assert got_deflating[0] is compress and got_plain[0] is False
    assert got_deflating[2] == got_plain[2] and got_plain[2].startswith(b'42["big"')
    deflating.close()
    plain.close()


@pytest.mark.parametrize("compress", [True, False])
def test_compress_false_holds_for_an_emit_queued_before_admission(sio, compress: bool) -> None:
    """A middleware's ``socket.compress(False).emit`` is queued until the CONNECT answer
    is written: it still goes out plain (RSV1 clear), after that answer; the default goes
    compressed."""
    client = connect(sio)
    client.ws.send('40/early,{"size":2000,"compress":%s}' % json.dumps(compress))
    compressed, _, answer = client.recv()
    assert not compressed and answer.startswith(b"40/early,{")
    compressed, opcode, event = client.recv()
    assert (compressed, opcode) == (compress, OP_TEXT)
    assert event.startswith(b'42/early,["big",{"items":["item-000000"')
    client.close()


@pytest.mark.parametrize("options, answer", [
    (None, _ANSWERED),
    ('{"threshold": 0, "server_no_context_takeover": false}',
     "permessage-deflate; client_no_context_takeover"),
])
def test_the_rfc6455_echo_app_offers_deflate(options: Optional[str], answer: str) -> None:
    """``rfc6455_echo_app.py --deflate`` (what the real fuzzingclient ran against for 12
    and 13): the offer is answered in the 101 and any text comes back, compressed from
    the threshold on; without ``--deflate`` nothing is agreed."""
    app = str(Path(__file__).with_name("rfc6455_echo_app.py"))
    args = ["--deflate"] + ([options] if options else [])
    for flags, expected in ((args, answer), ([], "")):
        server = ServerProcess(app, *flags)
        try:
            ws = ws_handshake(server.port, "", {"Sec-WebSocket-Extensions": _AUTOBAHN},
                              path="/")
            assert not isinstance(ws, Refused), ws
            ws.settimeout(10)
            client = DeflateClient(ws, ws.headers.get("sec-websocket-extensions", ""),
                                   client_reset=True)
            if not expected:  # no --deflate: nothing agreed
                ws.sock.close()
                assert client.answer == ""
                continue
            assert client.answer == expected
            for size in (16, 5000):
                data = b"not an engine.io packet " * (size // 24 + 1)
                client.send(data[:size])
                assert client.recv() == (size >= 1024 or options is not None, OP_TEXT,
                                         data[:size])
            client.close()
        finally:
            server.stop()
