"""Engine.IO 4 polling payloads: packets joined by the record separator."""
from __future__ import annotations

from typing import List

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sio_core.engineio import Packet, PacketType, ProtocolError
from sio_core.engineio.payload_v4 import SEPARATOR, decode_payload, encode_payload

M = PacketType.MESSAGE
# the separator cannot appear inside a text packet: the protocol has no escape for it
# (lone surrogates are left out: a payload carries well-formed text, and a lone surrogate
# becomes U+FFFD on the way out, as test_lone_surrogate_goes_out_as_replacement shows)
TEXT = st.text(st.characters(exclude_characters="\x1e", exclude_categories=("Cs",))
               | st.characters(min_codepoint=0x10000))
PACKET = st.one_of(
    st.builds(Packet, st.sampled_from(list(PacketType)), TEXT),
    st.builds(Packet, st.just(M), st.binary()),
)
PACKETS = st.lists(PACKET, min_size=1, max_size=8)


def test_separator() -> None:
    assert SEPARATOR == "\x1e"


def test_encode_one_packet_has_no_separator() -> None:
    assert encode_payload([Packet(M, "hello")]) == "4hello"
    assert encode_payload([Packet(M, b"\x01\x02\x03")]) == "bAQID"
    assert encode_payload([Packet(PacketType.NOOP)]) == "6"


def test_encode_several_packets() -> None:
    packets = [Packet(M, "hello"), Packet(M, b"\x01\x02\x03"), Packet(PacketType.PING),
               Packet(M, "😀")]
    assert encode_payload(packets) == "4hello\x1ebAQID\x1e2\x1e4😀"
    assert encode_payload(iter(packets)) == "4hello\x1ebAQID\x1e2\x1e4😀"


def test_encode_empty_packets() -> None:
    assert encode_payload([]) == ""
    assert encode_payload([Packet(M, ""), Packet(M, b"")]) == "4\x1eb"


def test_decode() -> None:
    assert decode_payload("4hello") == [Packet(M, "hello")]
    assert decode_payload("4hello\x1ebAQID\x1e2\x1e4😀") == [
        Packet(M, "hello"), Packet(M, b"\x01\x02\x03"), Packet(PacketType.PING), Packet(M, "😀"),
    ]
    assert decode_payload("4\x1eb") == [Packet(M, ""), Packet(M, b"")]
    # length-prefix lookalikes are plain data in protocol 4
    assert decode_payload("46:4hello") == [Packet(M, "6:4hello")]


@given(PACKETS)
def test_round_trip(packets: List[Packet]) -> None:
    payload = encode_payload(packets)
    assert payload.count(SEPARATOR) == len(packets) - 1
    assert decode_payload(payload) == packets


@given(PACKETS)
def test_payload_is_the_joined_packets(packets: List[Packet]) -> None:
    assert encode_payload(packets) == SEPARATOR.join(encode_payload([p]) for p in packets)


@pytest.mark.parametrize("body", [
    "",                 # empty payload
    "\x1e",             # two empty packets
    "4a\x1e",           # trailing separator
    "\x1e4a",           # leading separator
    "4a\x1e\x1e4b",     # empty packet in the middle
    "x",                # unknown type
    "7",                # unknown type
    "4a\x1e9",          # unknown type after a good packet
    "b!!!!",            # bad base64
    "bAQI",             # bad base64 padding
    "b4AQID",           # a protocol 3 base64 packet
    "4a\x1ebé",         # non-ASCII base64
    "9:4hello",         # unknown type
])
def test_malformed(body: str) -> None:
    with pytest.raises(ProtocolError):
        decode_payload(body)


@given(st.text(st.characters(exclude_categories=())) | st.text("\x1e4b26AQID=x!", max_size=20))
def test_arbitrary_text_decodes_or_raises_protocol_error(body: str) -> None:
    try:
        packets = decode_payload(body)
    except ProtocolError:
        return
    assert len(packets) == body.count(SEPARATOR) + 1
    assert [type(p.type) for p in packets] == [PacketType] * len(packets)
    assert decode_payload(encode_payload(packets)) == packets


def test_lone_surrogate_goes_out_as_replacement() -> None:
    assert decode_payload(encode_payload([Packet(M, "a\ud800b")])) == [Packet(M, "a\ufffdb")]
