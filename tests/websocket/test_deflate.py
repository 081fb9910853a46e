"""permessage-deflate (RFC 7692) in the pure codec: negotiation, round trips, context
takeover both ways, the bounded inflate and the reserved-bit rules."""
from __future__ import annotations

import os
import zlib
from typing import List

import pytest

from sio_core.websocket import (
    OP_TEXT,
    Close,
    DeflateOptions,
    DeflateParams,
    FrameDecoder,
    PerMessageDeflate,
    Ping,
    WebSocketProtocolError,
    accept_response,
    client_offer,
    encode_control,
    encode_message,
    frame_header,
    negotiate,
    parse_extensions,
    unmask,
)
from tests.websocket.test_frames import events

TAIL = b"\x00\x00\xff\xff"


def client_frame(payload: bytes, opcode: int = OP_TEXT, rsv1: bool = True,
                 fin: bool = True) -> bytes:
    """A masked client frame, RSV1 as asked."""
    mask = os.urandom(4)
    head = bytearray(frame_header(opcode, len(payload), True, rsv1))
    if not fin:
        head[0] &= 0x7F
    return bytes(head) + mask + unmask(mask, payload)


def raw_deflate(data: bytes, wbits: int = 15) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -wbits)
    out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(TAIL)
    return out[:-4]


def server_decoder(params: DeflateParams, max_size: int = 1 << 20) -> FrameDecoder:
    decoder = FrameDecoder(max_size)
    decoder.deflate = PerMessageDeflate(params)
    return decoder


# -- negotiation ------------------------------------------------------------------------

def test_parse_extensions_reads_offers_in_order() -> None:
    assert parse_extensions('permessage-deflate; client_max_window_bits, '
                            'permessage-deflate; server_max_window_bits="10", x-foo') == [
        ("permessage-deflate", {"client_max_window_bits": None}),
        ("permessage-deflate", {"server_max_window_bits": "10"}),
        ("x-foo", {}),
    ]


@pytest.mark.parametrize("value", ["permessage-deflate; a; a", "; x", "permessage-deflate; =1",
                                   'permessage-deflate; a="b c"'])
def test_parse_extensions_refuses_malformed_values(value: str) -> None:
    with pytest.raises(WebSocketProtocolError):
        parse_extensions(value)


@pytest.mark.parametrize("offer, options, answer", [
    # Chromium's and ws's offer: the server keeps no context by default
    ("permessage-deflate; client_max_window_bits", DeflateOptions(),
     "permessage-deflate; server_no_context_takeover"),
    ("permessage-deflate", DeflateOptions(server_no_context_takeover=False),
     "permessage-deflate"),
    # the client asks for no context on both sides
    ("permessage-deflate; server_no_context_takeover; client_no_context_takeover",
     DeflateOptions(server_no_context_takeover=False),
     "permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
    # a smaller server window asked: the same or smaller is stated
    ("permessage-deflate; server_max_window_bits=10", DeflateOptions(),
     "permessage-deflate; server_no_context_takeover; server_max_window_bits=10"),
    ("permessage-deflate; server_max_window_bits=12",
     DeflateOptions(server_max_window_bits=11),
     "permessage-deflate; server_no_context_takeover; server_max_window_bits=11"),
    # the client's window limited only where it offered the parameter
    ("permessage-deflate; client_max_window_bits",
     DeflateOptions(client_max_window_bits=10),
     "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"),
    ("permessage-deflate; client_max_window_bits=9", DeflateOptions(),
     "permessage-deflate; server_no_context_takeover; client_max_window_bits=9"),
    ("permessage-deflate", DeflateOptions(client_max_window_bits=10),
     "permessage-deflate; server_no_context_takeover"),
    # an unacceptable first offer falls back to the next one
    ("permessage-deflate; server_max_window_bits=8, permessage-deflate",
     DeflateOptions(), "permessage-deflate; server_no_context_takeover"),
    ("x-webkit-deflate-frame, permessage-deflate; foo=1, permessage-deflate",
     DeflateOptions(), "permessage-deflate; server_no_context_takeover"),
    # RFC 7692 section 7: an offer with a parameter repeated, or a value that is not a
    # token, is declined; the next offer is still taken (the whole list is not)
    ("permessage-deflate; server_no_context_takeover; server_no_context_takeover, "
     "permessage-deflate; client_max_window_bits=10", DeflateOptions(),
     "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"),
    ('permessage-deflate; client_max_window_bits="1 0", permessage-deflate; '
     "client_max_window_bits", DeflateOptions(), "permessage-deflate; server_no_context_takeover"),
    ("x-other;;, permessage-deflate", DeflateOptions(),
     "permessage-deflate; server_no_context_takeover"),
])
def test_negotiate_answers(offer: str, options: DeflateOptions, answer: str) -> None:
    agreed = negotiate(offer, options)
    assert agreed is not None
    assert agreed.header() == answer


@pytest.mark.parametrize("offer", [
    "", "x-webkit-deflate-frame", "permessage-deflate; server_max_window_bits",
    "permessage-deflate; server_max_window_bits=16", "permessage-deflate; unknown",
    "permessage-deflate; server_no_context_takeover=1", "permessage-deflate; a; a",
    "permessage-deflate; server_max_window_bits=8",
])
def test_negotiate_declines(offer: str) -> None:
    assert negotiate(offer, DeflateOptions()) is None


def test_negotiate_is_off_without_options() -> None:
    assert negotiate("permessage-deflate", None) is None
    assert DeflateOptions.from_option(False) is None
    assert DeflateOptions.from_option(True) == DeflateOptions()
    assert DeflateOptions.from_option({"threshold": 10}).threshold == 10
    with pytest.raises(ValueError):
        DeflateOptions.from_option({"thresold": 10})
    with pytest.raises(ValueError):
        DeflateOptions(server_max_window_bits=8)


def test_client_offer_and_reading_the_answer() -> None:
    options = DeflateOptions(client_no_context_takeover=True, server_no_context_takeover=False)
    offer = client_offer(options)
    assert offer == "permessage-deflate; client_max_window_bits; client_no_context_takeover"
    agreed = negotiate(offer, DeflateOptions(client_max_window_bits=12))
    assert agreed is not None
    params = accept_response(agreed.header(), options)
    assert params == DeflateParams(server_no_context_takeover=True,
                                   client_no_context_takeover=True, client_max_window_bits=12)
    assert accept_response(None, options) is None
    for bad in ("x-foo", "permessage-deflate; foo", "permessage-deflate, permessage-deflate",
                "permessage-deflate; server_max_window_bits=20"):
        with pytest.raises(WebSocketProtocolError):
            accept_response(bad, options)


# -- round trips ------------------------------------------------------------------------

@pytest.mark.parametrize("server_reset", [False, True])
@pytest.mark.parametrize("client_reset", [False, True])
def test_round_trips_both_ways(server_reset: bool, client_reset: bool) -> None:
    params = DeflateParams(server_no_context_takeover=server_reset,
                           client_no_context_takeover=client_reset)
    server, client = PerMessageDeflate(params), PerMessageDeflate(params, client=True)
    to_client = FrameDecoder(1 << 20, client=True)
    to_client.deflate = client
    to_server = FrameDecoder(1 << 20)
    to_server.deflate = server
    messages = ["x" * 2000, "héllo wörld " * 300, "x" * 2000, os.urandom(3000)]
    for message in messages:
        assert events(to_client, encode_message(message, None, server.compress)) == [message]
        frame = encode_message(message, os.urandom(4), client.compress)
        assert frame[0] & 0x40
        assert events(to_server, frame) == [message]
    # no context kept where none was agreed: the decompressor is dropped after a message
    assert (server._decompressor is None) == client_reset
    assert (client._decompressor is None) == server_reset
    assert (server._compressor is None) == server_reset


def test_context_takeover_makes_repeats_smaller_and_no_takeover_does_not() -> None:
    keep = PerMessageDeflate(DeflateParams())
    fresh = PerMessageDeflate(DeflateParams(server_no_context_takeover=True))
    message = os.urandom(1500)
    assert len(keep.compress(message)) > 1500
    assert len(keep.compress(message)) < 100  # refers back to the first
    assert len(fresh.compress(message)) > 1500
    assert len(fresh.compress(message)) > 1500
    assert fresh.share_key is not None and keep.share_key is None


def test_compressed_message_in_fragments_with_pings_between() -> None:
    decoder = server_decoder(DeflateParams())
    message = ("fragmented " * 500).encode()
    payload = raw_deflate(message)
    third = len(payload) // 3
    data = (client_frame(payload[:third], fin=False)
            + client_frame(b"hi", opcode=0x9, rsv1=False)
            + client_frame(payload[third:2 * third], opcode=0, rsv1=False, fin=False)
            + client_frame(payload[2 * third:], opcode=0, rsv1=False))
    assert events(decoder, data) == [Ping(b"hi"), message.decode()]


def test_empty_compressed_message_and_a_final_block() -> None:
    decoder = server_decoder(DeflateParams())
    assert events(decoder, client_frame(b"\x00")) == [""]
    final = zlib.compressobj(6, zlib.DEFLATED, -15)
    payload = final.compress(b"4done") + final.flush(zlib.Z_FINISH)
    assert events(decoder, client_frame(payload)) == ["4done"]
    assert events(decoder, client_frame(raw_deflate(b"4again"))) == ["4again"]


def test_uncompressed_messages_still_pass_when_negotiated() -> None:
    decoder = server_decoder(DeflateParams())
    assert events(decoder, client_frame(b"4plain", rsv1=False)) == ["4plain"]


# -- limits and refusals -----------------------------------------------------------------

class SpyDecompressor:
    """A raw-deflate decompressor that records what it is asked for and gives."""

    def __init__(self) -> None:
        self._inner = zlib.decompressobj(-15)
        self.max_lengths: List[int] = []
        self.produced = 0

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        self.max_lengths.append(max_length)
        out = self._inner.decompress(data, max_length)
        self.produced += len(out)
        return out

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


def test_a_decompression_bomb_is_refused_while_inflating() -> None:
    """16 MiB of zeros in a few KiB: refused with 1009 once past the limit, with no more
    than the limit (plus one byte) ever inflated."""
    limit = 100_000
    decoder = server_decoder(DeflateParams(), max_size=limit)
    bomb = raw_deflate(b"\x00" * (16 << 20))
    assert len(bomb) < limit
    spy = SpyDecompressor()
    decoder.deflate._decompressor = spy
    with pytest.raises(WebSocketProtocolError) as info:
        events(decoder, client_frame(bomb, opcode=0x2))
    assert info.value.code == 1009
    assert spy.max_lengths and all(0 < n <= limit + 1 for n in spy.max_lengths)
    assert spy.produced <= limit + 1


def test_inflate_output_is_bounded_per_call() -> None:
    deflate = PerMessageDeflate(DeflateParams())
    bomb = raw_deflate(b"a" * 1_000_000)
    assert len(deflate.inflate(bomb[:200], 500_000)) <= 500_000
    with pytest.raises(WebSocketProtocolError) as info:
        PerMessageDeflate(DeflateParams()).inflate(bomb, 999_999)
    assert info.value.code == 1009
    assert PerMessageDeflate(DeflateParams()).inflate(bomb, 1_000_000) == b"a" * 1_000_000


def test_garbage_that_is_not_deflate_is_1007() -> None:
    decoder = server_decoder(DeflateParams())
    with pytest.raises(WebSocketProtocolError) as info:
        events(decoder, client_frame(b"\xff\xff\xff\xff\xff"))
    assert info.value.code == 1007


def test_invalid_utf8_inside_a_compressed_text_message_is_1007() -> None:
    decoder = server_decoder(DeflateParams())
    with pytest.raises(WebSocketProtocolError) as info:
        events(decoder, client_frame(raw_deflate(b"4\xff\xfe")))
    assert info.value.code == 1007


@pytest.mark.parametrize("opcode", [0x8, 0x9, 0xA])
def test_rsv1_on_a_control_frame_is_refused(opcode: int) -> None:
    decoder = server_decoder(DeflateParams())
    payload = b"\x03\xe8" if opcode == 0x8 else b""
    with pytest.raises(WebSocketProtocolError) as info:
        events(decoder, client_frame(payload, opcode=opcode))
    assert info.value.code == 1002


def test_rsv1_on_a_continuation_frame_is_refused() -> None:
    decoder = server_decoder(DeflateParams())
    data = client_frame(b"4a", rsv1=False, fin=False) + client_frame(b"b", opcode=0)
    with pytest.raises(WebSocketProtocolError) as info:
        events(decoder, data)
    assert info.value.code == 1002


def test_rsv1_without_negotiation_is_refused_1002() -> None:
    decoder = FrameDecoder(1 << 20)
    with pytest.raises(WebSocketProtocolError) as info:
        events(decoder, client_frame(raw_deflate(b"4hello")))
    assert info.value.code == 1002
    assert "no extension" in str(info.value)


@pytest.mark.parametrize("rsv", [0x20, 0x10, 0x60])
def test_rsv2_rsv3_are_refused_even_when_negotiated(rsv: int) -> None:
    decoder = server_decoder(DeflateParams())
    frame = bytearray(client_frame(b"4x", rsv1=False))
    frame[0] |= rsv
    with pytest.raises(WebSocketProtocolError):
        events(decoder, bytes(frame))


def test_close_after_compressed_message() -> None:
    decoder = server_decoder(DeflateParams())
    data = client_frame(raw_deflate(b"4bye")) + client_frame(b"\x03\xe8", 0x8, rsv1=False)
    assert events(decoder, data) == ["4bye", Close(1000)]


def test_control_frames_are_never_compressed() -> None:
    assert not encode_control(0x9, b"x")[0] & 0x40
