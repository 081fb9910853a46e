"""Engine.IO packets: the text and websocket-frame encodings of protocols 3 and 4."""
from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sio_core.engineio import CloseReason, Packet, PacketType, ProtocolError
from sio_core.engineio.packet import (
    SUPPORTED_VERSIONS,
    decode_binary,
    decode_frame,
    decode_text,
    encode_frame,
    encode_text,
    well_formed,
)

VERSIONS = st.sampled_from([3, 4])
TYPES = st.sampled_from(list(PacketType))
# text with astral characters made frequent, on top of whatever st.text() draws
TEXT = st.text(st.characters(codec="utf-8") | st.characters(min_codepoint=0x10000))
# every code point, lone surrogates included (a websocket text frame cannot carry them,
# but the decoder must still not fail on them with anything but ProtocolError)
ANY_TEXT = st.text(st.characters(exclude_categories=()))
B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


def test_supported_versions() -> None:
    assert SUPPORTED_VERSIONS == (3, 4)


def test_packet_type_values() -> None:
    assert [(t.name, int(t)) for t in PacketType] == [
        ("OPEN", 0), ("CLOSE", 1), ("PING", 2), ("PONG", 3), ("MESSAGE", 4), ("UPGRADE", 5),
        ("NOOP", 6),
    ]


def test_packet_defaults_and_binary_flag() -> None:
    assert Packet(PacketType.NOOP).data == ""
    assert Packet(PacketType.NOOP).binary is False
    assert Packet(PacketType.MESSAGE, "x").binary is False
    assert Packet(PacketType.MESSAGE, b"x").binary is True
    assert Packet(PacketType.MESSAGE, b"").binary is True


# -- exact encodings ----------------------------------------------------------------


@pytest.mark.parametrize("version", [3, 4])
@pytest.mark.parametrize("packet, text", [
    (Packet(PacketType.OPEN, '{"sid":"abc"}'), '0{"sid":"abc"}'),
    (Packet(PacketType.CLOSE), "1"),
    (Packet(PacketType.PING), "2"),
    (Packet(PacketType.PING, "probe"), "2probe"),
    (Packet(PacketType.PONG, "probe"), "3probe"),
    (Packet(PacketType.MESSAGE, "hello"), "4hello"),
    (Packet(PacketType.MESSAGE, ""), "4"),
    (Packet(PacketType.MESSAGE, "😀é"), "4😀é"),
    (Packet(PacketType.MESSAGE, "bAQID"), "4bAQID"),
    (Packet(PacketType.UPGRADE), "5"),
    (Packet(PacketType.NOOP), "6"),
])
def test_encode_text_packets(version: int, packet: Packet, text: str) -> None:
    assert encode_text(packet, version) == text
    assert encode_frame(packet, version) == text
    assert type(encode_frame(packet, version)) is str
    assert decode_text(text, version) == packet
    assert decode_frame(text, version) == packet


def test_encode_binary_message_text_context() -> None:
    packet = Packet(PacketType.MESSAGE, b"\x01\x02\x03")
    assert encode_text(packet, 4) == "bAQID"
    assert encode_text(packet, 3) == "b4AQID"
    assert encode_text(Packet(PacketType.MESSAGE, b""), 4) == "b"
    assert encode_text(Packet(PacketType.MESSAGE, b""), 3) == "b4"
    assert encode_text(Packet(PacketType.MESSAGE, b"\xff\xfe"), 4) == "b//4="


def test_encode_binary_message_frame_context() -> None:
    packet = Packet(PacketType.MESSAGE, b"\x01\x02\x03")
    assert encode_frame(packet, 4) == b"\x01\x02\x03"
    assert encode_frame(packet, 3) == b"\x04\x01\x02\x03"
    assert encode_frame(Packet(PacketType.MESSAGE, b""), 4) == b""
    assert encode_frame(Packet(PacketType.MESSAGE, b""), 3) == b"\x04"


def test_decode_binary_message_text_context() -> None:
    assert decode_text("bAQID", 4) == Packet(PacketType.MESSAGE, b"\x01\x02\x03")
    assert decode_text("b4AQID", 3) == Packet(PacketType.MESSAGE, b"\x01\x02\x03")
    assert decode_text("b", 4) == Packet(PacketType.MESSAGE, b"")
    assert decode_text("b4", 3) == Packet(PacketType.MESSAGE, b"")
    # protocol 3 names the type of a base64 packet, whatever it is
    assert decode_text("b2AQID", 3) == Packet(PacketType.PING, b"\x01\x02\x03")


def test_decoded_type_is_the_enum_member() -> None:
    assert decode_text("2probe", 4).type is PacketType.PING
    assert decode_text("bAQID", 4).type is PacketType.MESSAGE
    assert decode_binary(b"\x03x", 3).type is PacketType.PONG
    assert decode_binary(b"x", 4).type is PacketType.MESSAGE


def test_decode_binary_frames() -> None:
    assert decode_binary(b"\x04\x01\x02", 3) == Packet(PacketType.MESSAGE, b"\x01\x02")
    assert decode_binary(b"\x04", 3) == Packet(PacketType.MESSAGE, b"")
    assert decode_binary(b"\x00abc", 3) == Packet(PacketType.OPEN, b"abc")
    assert decode_binary(b"\x06", 3) == Packet(PacketType.NOOP, b"")
    assert decode_binary(b"\x04\x01\x02", 4) == Packet(PacketType.MESSAGE, b"\x04\x01\x02")
    assert decode_binary(b"", 4) == Packet(PacketType.MESSAGE, b"")
    assert decode_frame(b"\x04\x01", 3) == Packet(PacketType.MESSAGE, b"\x01")
    assert decode_frame(b"\x04\x01", 4) == Packet(PacketType.MESSAGE, b"\x04\x01")


@pytest.mark.parametrize("version", [3, 4])
def test_decode_binary_accepts_bytearray_and_returns_bytes(version: int) -> None:
    packet = decode_binary(bytearray(b"\x04ab"), version)
    assert type(packet.data) is bytes
    assert packet.data == (b"ab" if version == 3 else b"\x04ab")


# -- malformed input ----------------------------------------------------------------


@pytest.mark.parametrize("version", [3, 4])
@pytest.mark.parametrize("text", [
    "", "7", "9hello", "x", "-1", " 4", "+4", "\x004", "é", "😀", "\ud800",
    "b!!!!", "bAQI", "bAQID\n", "b AQID", "bé", "b😀", "bA",
    "b4!!!!", "b4é", "b4AQID\n",
])
def test_decode_text_malformed(version: int, text: str) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_text(text, version)
    assert info.value.reason is CloseReason.PARSE_ERROR


@pytest.mark.parametrize("text", ["b", "bAQID", "b7AQID", "b9", "bx", "b-AQID", "b\ud800"])
def test_decode_text_v3_base64_needs_a_type_digit(text: str) -> None:
    with pytest.raises(ProtocolError):
        decode_text(text, 3)


def test_decode_text_v4_has_no_type_digit() -> None:
    # "4AQID" is five base64 characters: not valid base64
    with pytest.raises(ProtocolError):
        decode_text("b4AQID", 4)
    # but a v3 body whose length happens to be a multiple of four decodes as a v4 one
    assert decode_text("b4AQI", 4) == Packet(PacketType.MESSAGE, base64.b64decode("4AQI"))


@pytest.mark.parametrize("frame", [b"", b"\x07", b"\x09abc", b"\xff", b"4hello"])
def test_decode_binary_v3_malformed(frame: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_binary(frame, 3)
    with pytest.raises(ProtocolError):
        decode_frame(frame, 3)


@pytest.mark.parametrize("frame", ["", "7", "b", "bAQID"])
def test_decode_frame_text_malformed_v3(frame: str) -> None:
    with pytest.raises(ProtocolError):
        decode_frame(frame, 3)


# -- round trips ----------------------------------------------------------------------


@given(version=VERSIONS, ptype=TYPES, data=TEXT)
def test_text_packet_round_trip(version: int, ptype: PacketType, data: str) -> None:
    packet = Packet(ptype, data)
    text = encode_text(packet, version)
    assert text == str(int(ptype)) + data
    assert decode_text(text, version) == packet
    frame = encode_frame(packet, version)
    assert frame == text
    assert decode_frame(frame, version) == packet


@given(version=VERSIONS, data=st.binary())
def test_binary_message_round_trip_text_context(version: int, data: bytes) -> None:
    packet = Packet(PacketType.MESSAGE, data)
    text = encode_text(packet, version)
    prefix = "b4" if version == 3 else "b"
    assert text == prefix + base64.b64encode(data).decode("ascii")
    assert decode_text(text, version) == packet
    assert decode_frame(text, version) == packet


@given(version=VERSIONS, data=st.binary())
def test_binary_message_round_trip_frame_context(version: int, data: bytes) -> None:
    packet = Packet(PacketType.MESSAGE, data)
    frame = encode_frame(packet, version)
    assert frame == (b"\x04" + data if version == 3 else data)
    assert decode_frame(frame, version) == packet
    assert decode_binary(frame, version) == packet


@given(ptype=TYPES, data=st.binary())
def test_v3_binary_packets_of_any_type_round_trip(ptype: PacketType, data: bytes) -> None:
    packet = Packet(ptype, data)
    assert decode_text(encode_text(packet, 3), 3) == packet
    assert decode_frame(encode_frame(packet, 3), 3) == packet


# -- fuzzing: decode or ProtocolError, nothing else -------------------------------------


def _check_decoded(packet: Packet, version: int) -> None:
    """A decoded packet is well formed, and survives being encoded and decoded again."""
    assert type(packet.type) is PacketType
    assert type(packet.data) in (str, bytes)
    if isinstance(packet.data, bytes) and version == 4:
        assert packet.type is PacketType.MESSAGE
    # text that cannot go on the wire (lone surrogates) goes as well_formed writes it
    sent = packet if isinstance(packet.data, bytes) else \
        Packet(packet.type, well_formed(packet.data))
    assert decode_text(encode_text(packet, version), version) == sent
    assert decode_frame(encode_frame(packet, version), version) == sent


# structured noise: a plausible head, then base64-ish or arbitrary characters
NEAR_TEXT = st.builds(
    lambda head, body: head + body,
    st.sampled_from(["", "b", "b4", "b0", "b7", "4", "2", "7", "x"]),
    st.text(B64_ALPHABET + "\n -_!é", max_size=12) | ANY_TEXT,
)


@given(version=VERSIONS, text=ANY_TEXT | NEAR_TEXT)
def test_arbitrary_text_decodes_or_raises_protocol_error(version: int, text: str) -> None:
    try:
        packet = decode_text(text, version)
    except ProtocolError:
        return
    _check_decoded(packet, version)


@given(version=VERSIONS, data=st.binary())
def test_arbitrary_bytes_decode_or_raise_protocol_error(version: int, data: bytes) -> None:
    try:
        packet = decode_binary(data, version)
    except ProtocolError:
        return
    _check_decoded(packet, version)


@given(version=VERSIONS, frame=ANY_TEXT | NEAR_TEXT | st.binary())
def test_arbitrary_frames_decode_or_raise_protocol_error(version: int, frame) -> None:
    try:
        packet = decode_frame(frame, version)
    except ProtocolError:
        return
    _check_decoded(packet, version)
