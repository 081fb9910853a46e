"""The RFC 6455 frame codec, sans I/O: bytes in, events out, no sockets.

Frames are built by hand here (``raw``), not with the encoder under test, so that the
decoder is checked against the RFC's layout and not against its own mirror image.
"""
from __future__ import annotations

import struct
from typing import List, Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sio_core.websocket import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    Close,
    Event,
    FrameDecoder,
    Ping,
    Pong,
    WebSocketProtocolError,
    accept_key,
    check_key,
    encode_close,
    encode_control,
    encode_message,
    unmask,
)

MASK = b"\x37\xfa\x21\x3d"


def raw(opcode: int, payload: bytes, fin: bool = True, mask: Optional[bytes] = MASK,
        rsv: int = 0, length: Optional[int] = None) -> bytes:
    """A frame laid out byte by byte (RFC 6455, 5.2); ``length`` may lie about the payload."""
    size = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    bit = 0x80 if mask is not None else 0
    if size < 126:
        head += bytes([bit | size])
    elif size < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", size)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", size)
    if mask is None:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def events(decoder: FrameDecoder, data: bytes) -> List[Event]:
    decoder.feed(data)
    out = []
    while True:
        event = decoder.next_event()
        if event is None:
            return out
        out.append(event)


def bytewise(decoder: FrameDecoder, data: bytes) -> List[Event]:
    out: List[Event] = []
    for i in range(len(data)):
        out.extend(events(decoder, data[i:i + 1]))
    return out


def server(max_size: int = 1 << 20) -> FrameDecoder:
    return FrameDecoder(max_size)


def refused(data: bytes, max_size: int = 1 << 20, client: bool = False) -> int:
    """The close code the decoder fails ``data`` with."""
    with pytest.raises(WebSocketProtocolError) as info:
        events(FrameDecoder(max_size, client), data)
    return info.value.code


# -- messages ----------------------------------------------------------------------


def test_text_and_binary_messages() -> None:
    data = raw(OP_TEXT, "héllo 😀".encode()) + raw(OP_BINARY, b"\x00\xff")
    assert events(server(), data) == ["héllo 😀", b"\x00\xff"]


def test_types_are_str_for_text_and_bytes_for_binary() -> None:
    text, binary = events(server(), raw(OP_TEXT, b"a") + raw(OP_BINARY, b"a"))
    assert type(text) is str
    assert type(binary) is bytes


def test_empty_messages_are_messages() -> None:
    assert events(server(), raw(OP_TEXT, b"") + raw(OP_BINARY, b"")) == ["", b""]


def test_nothing_until_the_frame_is_complete() -> None:
    decoder = server()
    frame = raw(OP_TEXT, b"hello")
    assert events(decoder, frame[:-1]) == []
    assert events(decoder, frame[-1:]) == ["hello"]


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
def test_every_length_encoding(size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    assert events(server(), raw(OP_BINARY, payload)) == [payload]


def test_one_byte_at_a_time() -> None:
    data = (raw(OP_TEXT, "frag".encode(), fin=False) + raw(OP_PING, b"p")
            + raw(OP_CONT, "mented 😀".encode()) + raw(OP_BINARY, b"\x01" * 300)
            + raw(OP_PONG, b"") + raw(OP_CLOSE, struct.pack("!H", 1000) + b"bye"))
    assert bytewise(server(), data) == [Ping(b"p"), "fragmented 😀", b"\x01" * 300,
                                        Pong(b""), Close(1000, "bye")]


@given(st.lists(st.binary(max_size=300) | st.text(max_size=100), max_size=6),
       st.data())
def test_any_split_gives_the_same_messages(messages: list, data: st.DataObject) -> None:
    stream = b"".join(raw(OP_TEXT, m.encode()) if isinstance(m, str) else raw(OP_BINARY, m)
                      for m in messages)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    decoder = server()
    out: List[Event] = []
    for start, end in zip([0] + cuts, cuts + [len(stream)]):
        out.extend(events(decoder, stream[start:end]))
    assert out == messages


# -- fragmentation -----------------------------------------------------------------


def test_fragments_are_joined() -> None:
    data = (raw(OP_BINARY, b"ab", fin=False) + raw(OP_CONT, b"", fin=False)
            + raw(OP_CONT, b"cd"))
    assert events(server(), data) == [b"abcd"]


def test_control_frames_between_fragments_come_out_first() -> None:
    data = (raw(OP_TEXT, b"one ", fin=False) + raw(OP_PING, b"1")
            + raw(OP_CONT, b"two ", fin=False) + raw(OP_PONG, b"2") + raw(OP_CONT, b"three"))
    assert events(server(), data) == [Ping(b"1"), Pong(b"2"), "one two three"]


def test_a_code_point_split_across_fragments() -> None:
    emoji = "😀".encode()
    data = raw(OP_TEXT, b"x" + emoji[:1], fin=False) + raw(OP_CONT, emoji[1:3], fin=False) \
        + raw(OP_CONT, emoji[3:])
    assert bytewise(server(), data) == ["x😀"]


def test_continuation_without_a_message() -> None:
    assert refused(raw(OP_CONT, b"x")) == 1002


def test_new_message_inside_a_fragmented_one() -> None:
    assert refused(raw(OP_TEXT, b"a", fin=False) + raw(OP_BINARY, b"b")) == 1002


# -- control frames ----------------------------------------------------------------


def test_ping_and_pong_payloads() -> None:
    assert events(server(), raw(OP_PING, b"x" * 125) + raw(OP_PONG, b"\xff")) == [
        Ping(b"x" * 125), Pong(b"\xff")]


def test_control_frame_over_125_bytes() -> None:
    assert refused(raw(OP_PING, b"x" * 126)) == 1002


def test_fragmented_control_frame() -> None:
    assert refused(raw(OP_PING, b"x", fin=False)) == 1002


@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 11, 12, 13, 14, 15])
def test_reserved_opcodes(opcode: int) -> None:
    assert refused(raw(opcode, b"")) == 1002


@pytest.mark.parametrize("rsv", [1, 2, 4, 7])
def test_reserved_bits(rsv: int) -> None:
    assert refused(raw(OP_TEXT, b"x", rsv=rsv)) == 1002


# -- close frames ------------------------------------------------------------------


def test_close_without_payload() -> None:
    assert events(server(), raw(OP_CLOSE, b"")) == [Close(None)]


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4999])
def test_close_with_a_valid_code(code: int) -> None:
    assert events(server(), raw(OP_CLOSE, struct.pack("!H", code) + "👋".encode())) == [
        Close(code, "👋")]


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
def test_close_with_an_invalid_code(code: int) -> None:
    assert refused(raw(OP_CLOSE, struct.pack("!H", code))) == 1002


def test_close_with_half_a_code() -> None:
    assert refused(raw(OP_CLOSE, b"\x03")) == 1002


def test_close_reason_not_utf8() -> None:
    assert refused(raw(OP_CLOSE, struct.pack("!H", 1000) + b"\xff")) == 1007


def test_nothing_after_a_close_frame() -> None:
    decoder = server()
    data = raw(OP_CLOSE, struct.pack("!H", 1000)) + raw(OP_TEXT, b"after") + b"\xff\xff"
    assert events(decoder, data) == [Close(1000, "")]
    assert events(decoder, raw(OP_TEXT, b"later")) == []


# -- masking -----------------------------------------------------------------------


def test_unmasked_client_frame() -> None:
    assert refused(raw(OP_TEXT, b"x", mask=None)) == 1002


def test_masked_server_frame() -> None:
    assert refused(raw(OP_TEXT, b"x"), client=True) == 1002


def test_a_client_reads_unmasked_frames() -> None:
    assert events(FrameDecoder(100, client=True), raw(OP_TEXT, b"hi", mask=None)) == ["hi"]


def test_the_mask_continues_across_pieces() -> None:
    """A text payload handed out piece by piece is unmasked from the right key offset."""
    text = "0123456789abcdef" * 5
    assert bytewise(server(), raw(OP_TEXT, text.encode())) == [text]


def test_unmask_is_its_own_inverse() -> None:
    data = bytes(range(50))
    assert unmask(MASK, unmask(MASK, data)) == data
    assert unmask(MASK, b"") == b""
    assert unmask(MASK, b"\x00\x00\x00\x00\x00") == MASK + MASK[:1]


def test_a_given_unmasker_is_used() -> None:
    calls = []

    def counting(mask: bytes, data: bytes) -> bytes:
        calls.append(len(data))
        return unmask(mask, data)

    assert events(FrameDecoder(100, unmask=counting), raw(OP_TEXT, b"abc")) == ["abc"]
    assert calls == [3]


# -- limits ------------------------------------------------------------------------


def test_a_message_at_the_limit() -> None:
    assert events(server(10), raw(OP_BINARY, b"x" * 10)) == [b"x" * 10]


def test_the_header_alone_fails_a_message_over_the_limit() -> None:
    """The announced length is judged before any payload byte (or the mask) arrives."""
    head = raw(OP_BINARY, b"", length=11)[:2]
    assert refused(head, max_size=10) == 1009
    big = raw(OP_BINARY, b"", length=1 << 40)[:10]
    assert refused(big, max_size=10) == 1009


def test_a_whole_short_frame_over_the_limit_fails_too() -> None:
    """All of a short frame at once (the decoder's quick path) is held to the limit."""
    assert refused(raw(OP_TEXT, b"x" * 11), max_size=10) == 1009
    assert refused(raw(OP_TEXT, b"x" * 11, mask=None), max_size=10, client=True) == 1009


def test_fragments_count_together() -> None:
    data = raw(OP_TEXT, b"x" * 6, fin=False) + raw(OP_CONT, b"y" * 5)
    assert refused(data, max_size=10) == 1009


def test_control_frames_do_not_count() -> None:
    data = raw(OP_TEXT, b"x" * 6, fin=False) + raw(OP_PING, b"p" * 100) + raw(OP_CONT, b"y" * 4)
    assert events(server(10), data) == [Ping(b"p" * 100), "x" * 6 + "y" * 4]


def test_limit_resets_after_each_message() -> None:
    data = raw(OP_TEXT, b"x" * 10) + raw(OP_TEXT, b"y" * 10)
    assert events(server(10), data) == ["x" * 10, "y" * 10]


# -- UTF-8 -------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
                                     "😀".encode()[:3]])
def test_invalid_utf8(payload: bytes) -> None:
    assert refused(raw(OP_TEXT, payload)) == 1007


def test_bad_utf8_fails_before_the_message_is_complete() -> None:
    """A bad byte fails at once: the rest of a doomed 1000-byte frame is not awaited."""
    frame = raw(OP_TEXT, b"ok \xff" + b"x" * 1000)
    decoder = server()
    with pytest.raises(WebSocketProtocolError) as info:
        events(decoder, frame[:20])
    assert info.value.code == 1007


def test_bad_utf8_in_a_later_fragment_fails_at_once() -> None:
    decoder = server()
    assert events(decoder, raw(OP_TEXT, b"fine", fin=False)) == []
    with pytest.raises(WebSocketProtocolError) as info:
        events(decoder, raw(OP_CONT, b"\xf8" + b"x" * 100, fin=False)[:12])
    assert info.value.code == 1007


def test_a_code_point_cut_off_at_the_end() -> None:
    data = raw(OP_TEXT, b"a\xe2\x82", fin=False) + raw(OP_CONT, b"")
    assert refused(data) == 1007


def test_binary_is_not_checked() -> None:
    assert events(server(), raw(OP_BINARY, b"\xff")) == [b"\xff"]


# -- errors after good frames --------------------------------------------------------


def test_events_before_a_violation_come_out_first() -> None:
    decoder = server()
    decoder.feed(raw(OP_TEXT, b"first") + raw(OP_PING, b"p") + raw(5, b""))
    assert decoder.next_event() == "first"
    assert decoder.next_event() == Ping(b"p")
    with pytest.raises(WebSocketProtocolError):
        decoder.next_event()


def test_in_frame() -> None:
    decoder = server()
    assert decoder.in_frame is False
    frame = raw(OP_TEXT, b"hello")
    assert events(decoder, frame[:1]) == []
    assert decoder.in_frame is True
    assert events(decoder, frame[1:]) == ["hello"]
    assert decoder.in_frame is False
    assert events(decoder, raw(OP_TEXT, b"a", fin=False)) == []
    assert decoder.in_frame is False  # between fragments: a whole frame boundary


# -- encoding ----------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
def test_encoding_matches_the_layout(size: int) -> None:
    assert encode_message(b"z" * size) == raw(OP_BINARY, b"z" * size, mask=None)
    assert encode_message("z" * size, MASK) == raw(OP_TEXT, b"z" * size)


@given(st.text() | st.binary())
def test_encode_decode_round_trip(message: object) -> None:
    assert events(server(), encode_message(message, MASK)) == [message]  # type: ignore
    client = FrameDecoder(1 << 20, client=True)
    assert events(client, encode_message(message)) == [message]  # type: ignore


def test_encode_control_frames() -> None:
    assert encode_control(OP_PONG, b"abc") == raw(OP_PONG, b"abc", mask=None)
    assert encode_control(OP_PING, b"abc", MASK) == raw(OP_PING, b"abc")
    with pytest.raises(ValueError):
        encode_control(OP_PING, b"x" * 126)
    with pytest.raises(ValueError):
        encode_control(OP_TEXT, b"x")


def test_encode_close() -> None:
    assert encode_close(1008) == raw(OP_CLOSE, b"\x03\xf0", mask=None)
    assert events(server(), encode_close(4000, "bye", MASK)) == [Close(4000, "bye")]
    for code in (1005, 1006, 1015, 999):
        with pytest.raises(ValueError):
            encode_close(code)


# -- handshake ---------------------------------------------------------------------


def test_accept_key_of_the_rfc_example() -> None:
    """RFC 6455, 1.3."""
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


@pytest.mark.parametrize("key", ["", "not base64!", "c2hvcnQ=", "dGhlIHNhbXBsZSBub25jZQ=="[:-4]])
def test_bad_keys(key: str) -> None:
    with pytest.raises(WebSocketProtocolError):
        check_key(key)


def test_good_key_is_stripped() -> None:
    assert check_key(" dGhlIHNhbXBsZSBub25jZQ== ") == "dGhlIHNhbXBsZSBub25jZQ=="
