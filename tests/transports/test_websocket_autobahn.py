"""The websocket edge (RFC 6455) case by case against the sections of the Autobahn|Testsuite.

Each test names the Autobahn cases it covers (sections 1 framing, 2 pings/pongs, 3 reserved
bits, 4 opcodes, 5 fragmentation, 6 UTF-8, 7 close handling, 9 limits, 10 auto-fragmentation,
12/13 compression: with it off, the default; with it on: test_websocket_deflate.py).
Nothing of that suite is used here: these are our own raw-socket tests against a running
Engine.IO echo server, with the expectations the suite's case descriptions state, adapted
to an Engine.IO endpoint:

- a text message is an Engine.IO packet: the suite's "echo this text" becomes "echo
  ``4`` + text" (the ``4`` is one ASCII byte, so lengths and UTF-8 validity are kept);
  protocol 4 binary frames are raw messages and are echoed as they are;
- a payload that is not an Engine.IO packet (an empty text message) is a parse error and
  gets a clean close with 1002, where the suite would expect an echo;
- pings, pongs and close frames are RFC 6455 control frames, answered by the websocket
  layer itself, independently of Engine.IO's own ping packets.

"The connection is failed" is checked as: the next frame the server sends is a close
frame with the expected code (nothing else before it: no echo, no pong), then the TCP
connection ends. "Clean close" is checked as: our close frame is answered with a close
frame and the TCP connection ends.
"""
from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct
from typing import Iterator, List, Optional, Sequence, Tuple

import pytest

from tests.helpers import ServerProcess
from tests.transports.wsclient import (
    GUID,
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    WebSocketClient,
    encode_frame,
    open_ws,
    polling_sid,
    request,
    ws_connect,
)

#: the echo server's message limit: the suite's largest message (16 MiB) fits exactly
BIG = 16 * 2 ** 20
#: the limit of the second server, for messages above the limit
SMALL = 65536

Expected = Tuple[int, bytes]


@pytest.fixture(scope="module")
def echo() -> Iterator[ServerProcess]:
    """An Engine.IO echo server whose limit takes the suite's 16 MiB messages; its own
    Engine.IO pings are far away so that none comes in the middle of a test."""
    server = ServerProcess("engineio_echo.py", "--max-http-buffer-size", str(BIG),
                           "--ping-interval", "300", "--ping-timeout", "60")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def small() -> Iterator[ServerProcess]:
    """An Engine.IO echo server with a 64 KiB message limit."""
    server = ServerProcess("engineio_echo.py", "--max-http-buffer-size", str(SMALL))
    yield server
    server.stop()


@pytest.fixture
def ws(echo) -> Iterator[WebSocketClient]:
    """A protocol 4 websocket session with the echo server, its open packet read."""
    client, _ = open_ws(echo.port, 4)
    with client:
        client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # real chops
        client.settimeout(10)
        yield client


# -- helpers ------------------------------------------------------------------------------

def frame(opcode: int, payload: bytes = b"", fin: bool = True, rsv: int = 0) -> bytes:
    """One masked client frame."""
    return encode_frame(opcode, payload, True, fin, rsv)


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return struct.pack("!H", code) + reason


def send(ws: WebSocketClient, frames: Sequence[bytes], chop: Optional[int] = None) -> None:
    """Write ``frames``: in one write (chop None), one write per frame (chop 0), or in
    writes of ``chop`` bytes (1: octet-wise, as the suite's "chops").

    A server that has failed the connection may reset it before everything is written:
    writing stops there, and what the server sent is still read (and checked) next.
    """
    data = b"".join(frames)
    if chop is None:
        writes = [data]
    elif chop == 0:
        writes = list(frames)
    else:
        writes = [data[start:start + chop] for start in range(0, len(data), chop)]
    try:
        for piece in writes:
            ws.sock.sendall(piece)
    except (BrokenPipeError, ConnectionResetError):
        pass


def expect(ws: WebSocketClient, *frames: Expected) -> None:
    """The server's next frames are exactly ``frames`` (opcode, payload), all final."""
    for opcode, payload in frames:
        got = ws.recv_frame()
        assert (got.fin, got.opcode, got.payload) == (True, opcode, payload)


def expect_failed(ws: WebSocketClient, code: int) -> None:
    """The connection is failed: the next frame is a close frame with ``code`` (no echo or
    pong before it), then the server ends the TCP connection."""
    expect(ws, (OP_CLOSE, close_payload(code)))
    assert ws.at_eof()


def close_cleanly(ws: WebSocketClient) -> None:
    """The closing handshake: our close frame is answered by the server's, then EOF."""
    ws.send_frame(OP_CLOSE, close_payload(1000))
    expect(ws, (OP_CLOSE, close_payload(1000)))
    assert ws.at_eof()


def text(size: int, fill: bytes = b"*") -> bytes:
    """An Engine.IO message packet of ``size`` bytes on the wire: ``4`` then filler."""
    return b"4" + fill * (size - 1)


def fragments(opcode: int, payload: bytes, size: int) -> List[bytes]:
    """``payload`` as one message in frames of ``size`` bytes."""
    pieces = [payload[i:i + size] for i in range(0, len(payload), size)] or [b""]
    return [frame(opcode if index == 0 else OP_CONT, piece, fin=index == len(pieces) - 1)
            for index, piece in enumerate(pieces)]


# -- 1 framing ----------------------------------------------------------------------------

@pytest.mark.parametrize("size", [125, 126, 127, 128, 65535, 65536])
def test_1_1_x_text_payload_lengths(ws, size: int) -> None:
    """Autobahn 1.1.2–1.1.7: text messages across the 7-bit, 16-bit and 64-bit lengths."""
    message = text(size)
    ws.send_frame(OP_TEXT, message)
    expect(ws, (OP_TEXT, message))
    close_cleanly(ws)


def test_1_1_1_empty_text_message_is_not_an_engineio_packet(ws, echo) -> None:
    """Autobahn 1.1.1, adapted: an empty text message is no Engine.IO packet, so the
    session ends with a clean close (parse error, 1002) instead of an echo."""
    ws.send_frame(OP_TEXT, b"")
    expect_failed(ws, 1002)
    other, _ = open_ws(echo.port, 4)
    with other:
        other.send("4still served")
        assert other.recv() == "4still served"


def test_1_1_8_text_65536_in_chops_of_997(ws) -> None:
    """Autobahn 1.1.8: a 65536-byte text message written in chops of 997 octets."""
    message = text(65536)
    send(ws, [frame(OP_TEXT, message)], chop=997)
    expect(ws, (OP_TEXT, message))
    close_cleanly(ws)


@pytest.mark.parametrize("size", [0, 125, 126, 127, 128, 65535, 65536])
def test_1_2_x_binary_payload_lengths(ws, size: int) -> None:
    """Autobahn 1.2.1–1.2.7: binary messages (raw Engine.IO 4 messages), 0 to 65536 bytes."""
    message = b"\xfe" * size
    ws.send_frame(OP_BINARY, message)
    expect(ws, (OP_BINARY, message))
    close_cleanly(ws)


def test_1_2_8_binary_65536_in_chops_of_997(ws) -> None:
    """Autobahn 1.2.8: a 65536-byte binary message written in chops of 997 octets."""
    message = bytes(range(256)) * 256
    send(ws, [frame(OP_BINARY, message)], chop=997)
    expect(ws, (OP_BINARY, message))
    close_cleanly(ws)


# -- 2 pings and pongs --------------------------------------------------------------------

@pytest.mark.parametrize("payload", [
    b"",                                   # 2.1
    b"Hello, world!",                      # 2.2
    b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff",   # 2.3: not UTF-8
    b"\xfe" * 125,                         # 2.4: the largest control frame
])
def test_2_1_to_2_4_ping_is_answered_with_its_payload(ws, payload: bytes) -> None:
    """Autobahn 2.1–2.4: a ping is answered by a pong with the same payload."""
    ws.send_frame(OP_PING, payload)
    expect(ws, (OP_PONG, payload))
    close_cleanly(ws)


def test_2_5_ping_over_125_bytes_fails_the_connection(ws) -> None:
    """Autobahn 2.5: a ping of 126 bytes is a protocol error (1002), no pong."""
    ws.send_frame(OP_PING, b"\xfe" * 126)
    expect_failed(ws, 1002)


def test_2_6_ping_of_125_bytes_in_octet_wise_chops(ws) -> None:
    """Autobahn 2.6: the 125-byte ping written one octet at a time."""
    send(ws, [frame(OP_PING, b"\xfe" * 125)], chop=1)
    expect(ws, (OP_PONG, b"\xfe" * 125))
    close_cleanly(ws)


@pytest.mark.parametrize("payload", [b"", b"unsolicited pong payload"])
def test_2_7_2_8_unsolicited_pong_is_ignored(ws, payload: bytes) -> None:
    """Autobahn 2.7, 2.8: an unsolicited pong gets no answer (the next frame the server
    sends is the echo of the message written after it)."""
    send(ws, [frame(OP_PONG, payload), frame(OP_TEXT, b"4next")])
    expect(ws, (OP_TEXT, b"4next"))
    close_cleanly(ws)


def test_2_9_pong_then_ping(ws) -> None:
    """Autobahn 2.9: nothing for the unsolicited pong, a pong for the ping after it."""
    send(ws, [frame(OP_PONG, b"unsolicited"), frame(OP_PING, b"ping payload")])
    expect(ws, (OP_PONG, b"ping payload"))
    close_cleanly(ws)


@pytest.mark.parametrize("chop", [None, 1])
def test_2_10_2_11_ten_pings_get_ten_pongs(ws, chop: Optional[int]) -> None:
    """Autobahn 2.10 (one write), 2.11 (octet-wise chops): ten pings, ten pongs in order."""
    payloads = [b"payload-%d" % i for i in range(10)]
    send(ws, [frame(OP_PING, p) for p in payloads], chop)
    expect(ws, *[(OP_PONG, p) for p in payloads])
    close_cleanly(ws)


# -- 3 reserved bits ----------------------------------------------------------------------

def test_3_1_rsv1_fails_the_connection(ws) -> None:
    """Autobahn 3.1: a text frame with RSV1 (no extension negotiated): 1002 at once."""
    ws.send_frame(OP_TEXT, b"4Hello, world!", rsv=4)
    expect_failed(ws, 1002)


@pytest.mark.parametrize("rsv, chop", [(2, None), (3, 0), (4, 1)])
def test_3_2_to_3_4_reserved_bits_after_a_message(ws, rsv: int, chop: Optional[int]) -> None:
    """Autobahn 3.2 (RSV 2, one write), 3.3 (RSV 3, frame-wise), 3.4 (RSV 4, octet-wise):
    the first message is echoed, the frame with reserved bits fails the connection, and
    the ping after it is never answered."""
    send(ws, [frame(OP_TEXT, b"4Hello, world!"), frame(OP_TEXT, b"4Hello, world!", rsv=rsv),
              frame(OP_PING)], chop)
    expect(ws, (OP_TEXT, b"4Hello, world!"))
    expect_failed(ws, 1002)


@pytest.mark.parametrize("opcode, rsv, payload", [
    (OP_BINARY, 5, b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"),   # 3.5
    (OP_PING, 6, b"Hello, world!"),                          # 3.6
    (OP_CLOSE, 7, b""),                                      # 3.7
])
def test_3_5_to_3_7_reserved_bits_on_binary_ping_close(ws, opcode: int, rsv: int,
                                                       payload: bytes) -> None:
    """Autobahn 3.5–3.7: reserved bits on a binary, a ping and a close frame: 1002."""
    ws.send_frame(opcode, payload, rsv=rsv)
    expect_failed(ws, 1002)


# -- 4 opcodes ----------------------------------------------------------------------------

@pytest.mark.parametrize("opcode", [3, 4, 11, 12])
def test_4_1_1_4_1_2_4_2_1_4_2_2_reserved_opcode_fails_the_connection(ws, opcode: int) -> None:
    """Autobahn 4.1.1, 4.1.2 (non-control 3, 4), 4.2.1, 4.2.2 (control 11, 12): 1002."""
    ws.send_frame(opcode, b"reserved opcode payload" if opcode in (4, 12) else b"")
    expect_failed(ws, 1002)


@pytest.mark.parametrize("opcode", [5, 6, 7, 13, 14, 15])
def test_4_1_3_to_4_2_5_reserved_opcode_after_a_message(ws, opcode: int) -> None:
    """Autobahn 4.1.3–4.1.5 (non-control 5–7), 4.2.3–4.2.5 (control 13–15): the message
    before is echoed, the reserved opcode fails the connection, the ping is not answered."""
    send(ws, [frame(OP_TEXT, b"4Hello, world!"), frame(opcode, b"payload"), frame(OP_PING)])
    expect(ws, (OP_TEXT, b"4Hello, world!"))
    expect_failed(ws, 1002)


# -- 5 fragmentation ----------------------------------------------------------------------

@pytest.mark.parametrize("opcode", [OP_PING, OP_PONG])
def test_5_1_5_2_fragmented_control_frame_fails_the_connection(ws, opcode: int) -> None:
    """Autobahn 5.1 (ping), 5.2 (pong) in two fragments: 1002, no pong."""
    send(ws, [frame(opcode, b"fragment1", fin=False), frame(OP_CONT, b"fragment2")])
    expect_failed(ws, 1002)


@pytest.mark.parametrize("chop", [None, 0, 1])
def test_5_3_to_5_5_text_in_two_fragments(ws, chop: Optional[int]) -> None:
    """Autobahn 5.3 (one write), 5.4 (frame-wise), 5.5 (octet-wise): two fragments make
    one message, echoed whole."""
    send(ws, [frame(OP_TEXT, b"4fragment1", fin=False), frame(OP_CONT, b"fragment2")], chop)
    expect(ws, (OP_TEXT, b"4fragment1fragment2"))
    close_cleanly(ws)


@pytest.mark.parametrize("chop", [None, 0, 1])
def test_5_6_to_5_8_ping_between_fragments(ws, chop: Optional[int]) -> None:
    """Autobahn 5.6 (one write), 5.7 (frame-wise), 5.8 (octet-wise): a ping between two
    fragments is answered first, then the message is echoed."""
    send(ws, [frame(OP_TEXT, b"4fragment1", fin=False), frame(OP_PING, b"ping payload"),
              frame(OP_CONT, b"fragment2")], chop)
    expect(ws, (OP_PONG, b"ping payload"), (OP_TEXT, b"4fragment1fragment2"))
    close_cleanly(ws)


@pytest.mark.parametrize("fin, chop", [
    (True, None), (True, 0), (True, 1),      # 5.9, 5.10, 5.11
    (False, None), (False, 0), (False, 1),   # 5.12, 5.13, 5.14
])
def test_5_9_to_5_14_continuation_of_nothing(ws, fin: bool, chop: Optional[int]) -> None:
    """Autobahn 5.9–5.14: a continuation frame (final or not) with no message to continue,
    then a text message, in one write, frame-wise and octet-wise: 1002, no echo."""
    send(ws, [frame(OP_CONT, b"non-continuation payload", fin=fin),
              frame(OP_TEXT, b"4Hello, world!")], chop)
    expect_failed(ws, 1002)


def test_5_15_continuation_of_nothing_after_a_message(ws) -> None:
    """Autobahn 5.15: a message in two fragments (echoed), then a continuation of nothing
    (1002), then a text message (never echoed)."""
    send(ws, [frame(OP_TEXT, b"4fragment1", fin=False), frame(OP_CONT, b"fragment2"),
              frame(OP_CONT, b"fragment3", fin=False), frame(OP_TEXT, b"4fragment4")])
    expect(ws, (OP_TEXT, b"4fragment1fragment2"))
    expect_failed(ws, 1002)


@pytest.mark.parametrize("fin", [False, True])
def test_5_16_5_17_continuation_of_nothing_repeated(ws, fin: bool) -> None:
    """Autobahn 5.16 (FIN false), 5.17 (FIN true): twice a continuation of nothing then a
    message in two fragments: the first frame fails the connection."""
    once = [frame(OP_CONT, b"fragment1", fin=fin), frame(OP_TEXT, b"4fragment2", fin=False),
            frame(OP_CONT, b"fragment3")]
    send(ws, once + once)
    expect_failed(ws, 1002)


def test_5_18_second_fragment_with_the_text_opcode(ws) -> None:
    """Autobahn 5.18: a second fragment that says text instead of continuation: 1002."""
    send(ws, [frame(OP_TEXT, b"4fragment1", fin=False), frame(OP_TEXT, b"fragment2")])
    expect_failed(ws, 1002)


@pytest.mark.parametrize("chop", [None, 0])
def test_5_19_5_20_pings_answered_while_a_message_is_incomplete(ws, chop: Optional[int]) -> None:
    """Autobahn 5.19 (frames as they come), 5.20 (frame-wise): the pong for a ping sent
    between fragments comes before the message is complete (awaited before the rest is
    written), the second one too, then the whole message is echoed."""
    send(ws, [frame(OP_TEXT, b"4fragment1", fin=False), frame(OP_CONT, b"fragment2", fin=False),
              frame(OP_PING, b"pongme 1!")], chop)
    expect(ws, (OP_PONG, b"pongme 1!"))
    send(ws, [frame(OP_CONT, b"fragment3", fin=False), frame(OP_CONT, b"fragment4", fin=False),
              frame(OP_PING, b"pongme 2!")], chop)
    expect(ws, (OP_PONG, b"pongme 2!"))
    send(ws, [frame(OP_CONT, b"fragment5")], chop)
    expect(ws, (OP_TEXT, b"4fragment1fragment2fragment3fragment4fragment5"))
    close_cleanly(ws)


# -- 6 UTF-8 handling ---------------------------------------------------------------------

def test_6_1_1_6_1_2_empty_text_messages(ws, echo) -> None:
    """Autobahn 6.1.1 (empty text), 6.1.2 (three empty fragments), adapted: an empty text
    message is no Engine.IO packet: a clean close with 1002, in both forms."""
    send(ws, [frame(OP_TEXT, b"", fin=False), frame(OP_CONT, b"", fin=False),
              frame(OP_CONT, b"")])
    expect_failed(ws, 1002)
    other, _ = open_ws(echo.port, 4)
    with other:
        other.send_frame(OP_TEXT, b"")
        expect_failed(other, 1002)


@pytest.mark.parametrize("parts, message", [
    ([b"4", b"", b""], b"4"),                              # 6.1.2 with the packet type first
    ([b"", b"4middle", b""], b"4middle"),                  # 6.1.3
])
def test_6_1_2_6_1_3_empty_fragments(ws, parts: List[bytes], message: bytes) -> None:
    """Autobahn 6.1.2, 6.1.3: empty fragments add nothing to the message."""
    send(ws, [frame(OP_TEXT if i == 0 else OP_CONT, part, fin=i == len(parts) - 1)
              for i, part in enumerate(parts)])
    expect(ws, (OP_TEXT, message))
    close_cleanly(ws)


HELLO = "4Hello-µ@ßöäüàá-UTF-8!! κόσμε 𤭢 €".encode()


def test_6_2_1_to_6_2_4_valid_utf8_in_any_fragmentation(ws) -> None:
    """Autobahn 6.2.1 (one frame), 6.2.2 (two fragments on a code point boundary),
    6.2.3, 6.2.4 (fragments of one octet: frames end inside code points): echoed."""
    boundary = HELLO.index("κ".encode())
    ws.send_frame(OP_TEXT, HELLO)
    expect(ws, (OP_TEXT, HELLO))
    send(ws, [frame(OP_TEXT, HELLO[:boundary], fin=False), frame(OP_CONT, HELLO[boundary:])])
    expect(ws, (OP_TEXT, HELLO))
    send(ws, fragments(OP_TEXT, HELLO, 1))
    expect(ws, (OP_TEXT, HELLO))
    close_cleanly(ws)


INVALID = b"4\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"


@pytest.mark.parametrize("size", [None, 1])
def test_6_3_1_6_3_2_invalid_utf8_fails_with_1007(ws, size: Optional[int]) -> None:
    """Autobahn 6.3.1 (one frame), 6.3.2 (fragments of one octet): 1007, no echo."""
    send(ws, [frame(OP_TEXT, INVALID)] if size is None else fragments(OP_TEXT, INVALID, size))
    expect_failed(ws, 1007)


#: 6.4: valid text, then a code point above U+10FFFF (PART2), then valid text again
PART1 = "4κόσμε".encode()
PART3 = b"edited"


@pytest.mark.parametrize("part2", [b"\xf4\x90\x80\x80", b"\xf4\x90"])
def test_6_4_1_6_4_2_invalid_fragment_fails_fast(ws, part2: bytes) -> None:
    """Autobahn 6.4.1 (the invalid code point whole), 6.4.2 (up to the octet that makes
    it invalid) in their own fragment: 1007 as soon as that fragment arrives, before the
    rest of the message is written."""
    ws.send_frame(OP_TEXT, PART1, fin=False)
    ws.send_frame(OP_CONT, part2, fin=False)
    expect_failed(ws, 1007)


@pytest.mark.parametrize("part2", [b"\xf4\x90\x80\x80", b"\xf4\x90"])
def test_6_4_3_6_4_4_invalid_chop_of_one_frame_fails_fast(ws, part2: bytes) -> None:
    """Autobahn 6.4.3, 6.4.4: the same parts as chops of one frame: 1007 as soon as the
    invalid octets arrive, before the rest of the frame is written."""
    data = frame(OP_TEXT, PART1 + part2 + PART3)
    head = len(data) - len(PART1 + part2 + PART3)
    ws.sock.sendall(data[:head + len(PART1)])
    ws.sock.sendall(data[head + len(PART1):head + len(PART1) + len(part2)])
    expect_failed(ws, 1007)


def _utf8_cases() -> List[Tuple[str, bytes, bool]]:
    """Valid and invalid UTF-8 by the categories of Autobahn 6.5–6.23 (which follow
    Markus Kuhn's decoder test file), with the verdict RFC 3629 gives each."""
    cases: List[Tuple[str, bytes, bool]] = []

    def add(name: str, verdict: bool, *samples: bytes) -> None:
        cases.extend(("%s-%d" % (name, i), sample, verdict) for i, sample in enumerate(samples))

    kosme = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"  # κόσμε: 2, 3, 2, 2, 2 octets
    boundaries = {2, 5, 7, 9, 11}
    add("6.5-valid", True, b"hello$world", "hello¢world".encode(), "hello€world".encode(),
        "hello𤭢world".encode(), kosme)
    cases.extend(("6.6-prefix-%d" % n, kosme[:n], n in boundaries)
                 for n in range(1, len(kosme) + 1))
    first = [b"\x00", b"\xc2\x80", b"\xe0\xa0\x80", b"\xf0\x90\x80\x80"]
    last = [b"\x7f", b"\xdf\xbf", b"\xef\xbf\xbf", b"\xf4\x8f\xbf\xbf"]
    add("6.7-first-of-length", True, *first)
    add("6.8-five-six-octets", False, b"\xf8\x88\x80\x80\x80", b"\xfc\x84\x80\x80\x80\x80")
    add("6.9-last-of-length", True, *last)
    add("6.10-beyond-U+10FFFF", False, b"\xf7\xbf\xbf\xbf", b"\xfb\xbf\xbf\xbf\xbf",
        b"\xfd\xbf\xbf\xbf\xbf\xbf")
    add("6.11-boundaries", True, b"\xed\x9f\xbf", b"\xee\x80\x80", b"\xef\xbf\xbd")
    add("6.11-above-U+10FFFF", False, b"\xf4\x90\x80\x80")
    add("6.12-lone-continuation", False, b"\x80", b"\xbf", b"\x80\xbf", b"\x80\xbf\x80",
        bytes(range(0x80, 0xc0)))
    add("6.13-lonely-start", False, *(bytes(sum(([b, 0x20] for b in range(lo, hi)), []))
                                      for lo, hi in ((0xc0, 0xe0), (0xe0, 0xf0), (0xf0, 0xf8),
                                                     (0xf8, 0xfc), (0xfc, 0xfe))))
    truncated = [b"\xc0", b"\xe0\x80", b"\xf0\x80\x80", b"\xdf", b"\xef\xbf", b"\xf7\xbf\xbf",
                 b"\xc2", b"\xe2\x82", b"\xf0\x9f\x98"]
    add("6.14-last-continuation-missing", False, *truncated)
    add("6.15-incomplete-sequences-joined", False, b"".join(truncated))
    add("6.16-impossible-bytes", False, b"\xfe", b"\xff", b"\xfe\xfe\xff\xff")
    add("6.17-overlong-slash", False, b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf",
        b"\xf8\x80\x80\x80\xaf")
    add("6.18-maximum-overlong", False, b"\xc1\xbf", b"\xe0\x9f\xbf", b"\xf0\x8f\xbf\xbf")
    add("6.19-overlong-nul", False, b"\xc0\x80", b"\xe0\x80\x80", b"\xf0\x80\x80\x80")
    surrogates = [0xD800, 0xDB7F, 0xDB80, 0xDBFF, 0xDC00, 0xDF80, 0xDFFF]
    lone = [bytes([0xED, 0x80 | (s >> 6) & 0x3F, 0x80 | s & 0x3F]) for s in surrogates]
    add("6.20-single-surrogate", False, *lone)
    add("6.21-paired-surrogates", False, lone[0] + lone[4], lone[1] + lone[6], lone[3] + lone[5])
    add("6.22-noncharacters", True, *(chr(c).encode() for c in (
        0xFDD0, 0xFFFE, 0xFFFF, 0x1FFFE, 0x1FFFF, 0x10FFFE, 0x10FFFF)))
    add("6.23-specials", True, *(chr(c).encode() for c in range(0xFFF9, 0x10000)))
    return cases


UTF8_CASES = _utf8_cases()


@pytest.mark.parametrize("payload, valid", [(p, v) for _, p, v in UTF8_CASES],
                         ids=[name for name, _, _ in UTF8_CASES])
def test_6_5_to_6_23_utf8_decoder_cases(ws, payload: bytes, valid: bool) -> None:
    """Autobahn 6.5–6.23: each sample in a text message (after the packet type ``4``):
    valid UTF-8 is echoed, anything else fails the connection with 1007."""
    ws.send_frame(OP_TEXT, b"4" + payload)
    if valid:
        expect(ws, (OP_TEXT, b"4" + payload))
        close_cleanly(ws)
    else:
        expect_failed(ws, 1007)


# -- 7 close handling ---------------------------------------------------------------------

def test_7_1_1_message_then_close(ws) -> None:
    """Autobahn 7.1.1: a message and a close frame in one write: the echo comes first,
    then the close frame (nothing after it)."""
    send(ws, [frame(OP_TEXT, b"4Hello World!"), frame(OP_CLOSE, close_payload(1000))])
    expect(ws, (OP_TEXT, b"4Hello World!"), (OP_CLOSE, close_payload(1000)))
    assert ws.at_eof()


@pytest.mark.parametrize("after", [
    frame(OP_CLOSE, close_payload(1000)),        # 7.1.2: a second close frame
    frame(OP_PING, b"after close"),              # 7.1.3: a ping
    frame(OP_TEXT, b"4after close"),             # 7.1.4: a message
])
def test_7_1_2_to_7_1_4_anything_after_the_close_is_ignored(ws, after: bytes) -> None:
    """Autobahn 7.1.2–7.1.4: after the close frame, a second close, a ping or a message get
    nothing: the answer is one close frame with 1000 and the end of the connection."""
    send(ws, [frame(OP_CLOSE, close_payload(1000)), after])
    expect(ws, (OP_CLOSE, close_payload(1000)))
    assert ws.at_eof()


def test_7_1_5_close_inside_a_fragmented_message(ws) -> None:
    """Autobahn 7.1.5: fragment 1, close, fragment 2: a clean close with 1000, no echo."""
    send(ws, [frame(OP_TEXT, b"4fragment1", fin=False), frame(OP_CLOSE, close_payload(1000)),
              frame(OP_CONT, b"fragment2")])
    expect(ws, (OP_CLOSE, close_payload(1000)))
    assert ws.at_eof()


def test_7_1_6_large_message_then_close_then_ping(ws) -> None:
    """Autobahn 7.1.6: a 256 KiB message, a close and a ping back to back: the whole
    echo, then the close frame, and no pong (the suite leaves the echo optional; ours
    is always written before the close frame)."""
    message = text(256 * 1024)
    send(ws, [frame(OP_TEXT, message), frame(OP_CLOSE, close_payload(1000)),
              frame(OP_PING, b"after close")])
    expect(ws, (OP_TEXT, message), (OP_CLOSE, close_payload(1000)))
    assert ws.at_eof()


@pytest.mark.parametrize("payload", [
    b"",                                                  # 7.3.1: no code, no reason
    close_payload(1000),                                  # 7.3.3: a code
    close_payload(1000, b"Hello World!"),                 # 7.3.4: a code and a reason
    close_payload(1000, b"*" * 123),                      # 7.3.5: the longest reason
])
def test_7_3_1_7_3_3_to_7_3_5_valid_close_payloads(ws, payload: bytes) -> None:
    """Autobahn 7.3.1, 7.3.3–7.3.5: answered with a close frame with 1000, then EOF."""
    ws.send_frame(OP_CLOSE, payload)
    expect(ws, (OP_CLOSE, close_payload(1000)))
    assert ws.at_eof()


@pytest.mark.parametrize("payload, code", [
    (b"\x03", 1002),                                      # 7.3.2: half a status code
    (close_payload(1000, b"*" * 124), 1002),              # 7.3.6: 126 bytes, too long
    (close_payload(1000, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"),
     1007),                                               # 7.5.1: reason not UTF-8
])
def test_7_3_2_7_3_6_7_5_1_invalid_close_payloads(ws, payload: bytes, code: int) -> None:
    """Autobahn 7.3.2, 7.3.6 (protocol error), 7.5.1 (reason not UTF-8, 1007)."""
    ws.send_frame(OP_CLOSE, payload)
    expect_failed(ws, code)


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
                                  3000, 3999, 4000, 4999])
def test_7_7_x_valid_close_codes(ws, code: int) -> None:
    """Autobahn 7.7.1–7.7.13: a valid close code gets a clean close (normal code)."""
    ws.send_frame(OP_CLOSE, close_payload(code))
    expect(ws, (OP_CLOSE, close_payload(1000)))
    assert ws.at_eof()


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999,
                                  5000, 65535])
def test_7_9_x_7_13_x_invalid_close_codes(ws, code: int) -> None:
    """Autobahn 7.9.1–7.9.9 (invalid codes: 1002) and 7.13.1, 7.13.2 (5000 and 65535,
    which the suite leaves undefined: ours fail the connection with 1002 too)."""
    ws.send_frame(OP_CLOSE, close_payload(code))
    expect_failed(ws, 1002)



@pytest.mark.parametrize("probed", [False, True])
def test_7_3_3_close_during_the_upgrade_is_answered(echo, probed: bool) -> None:
    """Autobahn 7.3.3 on a websocket that joins a polling session: a close frame before
    or after the probe is answered with a close frame (1000), and the session goes on
    polling."""
    sid = polling_sid(echo.port, 4)
    ws = ws_connect(echo.port, "EIO=4&transport=websocket&sid=" + sid)
    with ws:
        if probed:
            ws.send("2probe")
            assert ws.recv() == "3probe"
        ws.send_frame(OP_CLOSE, close_payload(1000))
        expect(ws, (OP_CLOSE, close_payload(1000)))
        assert ws.at_eof()
    assert_polling_echoes(echo.port, sid, b"4still polling")


@pytest.mark.parametrize("payload, code", [
    (b"2pro\xff\xfe", 1007),                             # 6.3.1: not UTF-8
    (b"", 1002),                                          # 1.1.1: not an Engine.IO packet
])
def test_6_3_1_bad_probe_fails_the_upgrade_with_its_code(echo, payload: bytes,
                                                         code: int) -> None:
    """Autobahn 6.3.1 (and 1.1.1) on the probe of an upgrade: the websocket is failed
    with the code of the error (1007 for bad UTF-8), and the session goes on polling."""
    sid = polling_sid(echo.port, 4)
    ws = ws_connect(echo.port, "EIO=4&transport=websocket&sid=" + sid)
    with ws:
        ws.send_frame(OP_TEXT, payload)
        expect_failed(ws, code)
    assert_polling_echoes(echo.port, sid, b"4still polling")


def assert_polling_echoes(port: int, sid: str, message: bytes) -> None:
    """The protocol 4 polling session ``sid`` still echoes ``message``."""
    query = "EIO=4&transport=polling&sid=" + sid
    assert request(port, "POST", query, message).body == b"ok"
    assert request(port, "GET", query).body == message

# -- 9 limits and performance -------------------------------------------------------------

SIZES = [64 * 2 ** 10, 256 * 2 ** 10, 2 ** 20, 4 * 2 ** 20, 8 * 2 ** 20, 16 * 2 ** 20]


@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY])
def test_9_1_x_9_2_x_large_messages_up_to_the_limit(ws, opcode: int) -> None:
    """Autobahn 9.1.1–9.1.6 (text), 9.2.1–9.2.6 (binary): 64 KiB to 16 MiB in one frame,
    echoed whole; the last one is exactly the server's max_http_buffer_size."""
    for size in SIZES:
        message = text(size) if opcode == OP_TEXT else bytes([size % 251]) * size
        ws.send_frame(opcode, message)
        expect(ws, (opcode, message))
    close_cleanly(ws)


@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY])
def test_9_3_x_9_4_x_fragmented_4mib_messages(ws, opcode: int) -> None:
    """Autobahn 9.3.1–9.3.9 (text), 9.4.1–9.4.9 (binary): 4 MiB in fragments of 64 B to
    4 MiB, each echoed whole."""
    message = text(4 * 2 ** 20) if opcode == OP_TEXT else b"\xfe" * (4 * 2 ** 20)
    for size in (64, 256, 2 ** 10, 4 * 2 ** 10, 16 * 2 ** 10, 64 * 2 ** 10,
                 256 * 2 ** 10, 2 ** 20, 4 * 2 ** 20):
        send(ws, fragments(opcode, message, size))
        expect(ws, (opcode, message))
    close_cleanly(ws)


@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY])
def test_9_5_x_9_6_x_1mib_message_in_small_chops(ws, opcode: int) -> None:
    """Autobahn 9.5.1–9.5.6 (text), 9.6.1–9.6.6 (binary): a 1 MiB message written in
    chops of 64 to 2048 octets."""
    message = text(2 ** 20) if opcode == OP_TEXT else b"\xfe" * 2 ** 20
    for chop in (64, 128, 256, 512, 1024, 2048):
        send(ws, [frame(opcode, message)], chop)
        expect(ws, (opcode, message))
    close_cleanly(ws)


@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY])
def test_9_7_x_9_8_x_round_trips(ws, opcode: int) -> None:
    """Autobahn 9.7.1–9.7.6 (text), 9.8.1–9.8.6 (binary): 1000 round trips each of
    messages of 0 (binary; text: the 1-byte packet ``4``) to 4096 bytes, one at a time."""
    for size in (0, 16, 64, 256, 1024, 4096):
        if opcode == OP_TEXT:
            message = text(max(size, 1))
        else:
            message = b"\xfe" * size
        data = frame(opcode, message)
        for _ in range(1000):
            ws.sock.sendall(data)
            expect(ws, (opcode, message))
    close_cleanly(ws)


@pytest.mark.parametrize("frames", [
    [frame(OP_TEXT, text(SMALL + 1))],
    [frame(OP_BINARY, b"\x00" * (SMALL + 1))],
    fragments(OP_TEXT, text(SMALL + 1), 4096),
    fragments(OP_BINARY, b"\x00" * (SMALL + 1), 1000),
], ids=["text", "binary", "fragmented-text", "fragmented-binary"])
def test_9_x_message_above_the_limit_fails_with_1009(small, frames: List[bytes]) -> None:
    """Section 9 with a lower max_http_buffer_size: a message one byte above it, whole or
    fragmented, fails the connection with 1009 (message too big), and a message of
    exactly the limit is echoed."""
    ws, _ = open_ws(small.port, 4)
    with ws:
        ws.settimeout(10)
        ws.send_frame(OP_TEXT, text(SMALL))
        expect(ws, (OP_TEXT, text(SMALL)))
        send(ws, frames)  # the server stops reading at the header over the limit
        expect_failed(ws, 1009)


# -- 10 auto-fragmentation, 12/13 permessage-deflate --------------------------------------

def test_10_1_1_text_in_fragments_of_1300(ws) -> None:
    """Autobahn 10.1.1: 65536 bytes of text in fragments of 1300 bytes, echoed whole."""
    message = text(65536)
    send(ws, fragments(OP_TEXT, message, 1300))
    expect(ws, (OP_TEXT, message))
    close_cleanly(ws)


def test_12_13_permessage_deflate_is_never_negotiated(echo) -> None:
    """Autobahn 12, 13 with ``per_message_deflate`` off (the default; on:
    test_websocket_deflate.py): an offer of permessage-deflate is declined (no
    Sec-WebSocket-Extensions in the 101), so a frame with RSV1 ("compressed") is then a
    protocol error like any other reserved bit."""
    key = base64.b64encode(os.urandom(16))
    sock = socket.create_connection(("127.0.0.1", echo.port), timeout=10)
    sock.sendall(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                 b"Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n"
                 b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
                 b"\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, "connection closed inside the response head"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").lower().split("\r\n")
    assert lines[0].startswith("http/1.1 101")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert "sec-websocket-extensions" not in headers
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode().lower()
    assert headers["sec-websocket-accept"] == accept
    with WebSocketClient(sock, rest) as ws:
        assert ws.recv().startswith("0{")  # the open packet, uncompressed
        ws.send_frame(OP_TEXT, b"4compressed?", rsv=4)
        expect_failed(ws, 1002)
