"""Engine.IO text messages become UTF-8 as Node's ``Buffer.from`` makes them: a surrogate
pair held as two code units is its character, a lone surrogate is U+FFFD."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sio_core.engineio import Packet, PacketType, payload_v3, payload_v4
from sio_core.engineio.packet import encode_frame, encode_text

M = PacketType.MESSAGE

# any sequence of UTF-16 code units, lone surrogates made common
UNITS = st.lists(st.one_of(st.integers(0xD800, 0xDFFF), st.integers(0, 0xFFFF)), max_size=12)
CODE_UNIT_TEXT = UNITS.map(lambda units: "".join(map(chr, units)))


@pytest.mark.parametrize("version", [3, 4])
@pytest.mark.parametrize("text, wire", [
    ("a\ud83db", "a\ufffdb"),  # Buffer.from("a\ud83db") is 61 ef bf bd 62
    ("\udc00", "\ufffd"),
    ("\ud83d\ude00", "😀"),  # a pair in two code units: one character
    ("\ud83d\ud83d\ude00\ude00", "\ufffd😀\ufffd"),
    ("plain é 😀", "plain é 😀"),
])
def test_text_packets_are_well_formed(version, text, wire) -> None:
    assert encode_text(Packet(M, text), version) == "4" + wire
    assert encode_frame(Packet(M, text), version) == "4" + wire
    assert payload_v4.encode_payload([Packet(M, text)]).encode("utf-8") == \
        ("4" + wire).encode("utf-8")


def test_v3_payload_lengths_count_the_replaced_text() -> None:
    payload = payload_v3.encode_payload([Packet(M, "\ud83d"), Packet(M, "\ud83d\ude00")])
    assert payload == "2:4\ufffd3:4😀"
    body = payload_v3.encode_binary_payload([Packet(M, "x\udfff"), Packet(M, b"\x01")])
    assert body == b"\x00\x05\xff4x\xef\xbf\xbd\x01\x02\xff\x04\x01"


@given(CODE_UNIT_TEXT)
def test_any_string_encodes_to_utf8_with_its_utf16_length(text) -> None:
    for version in (3, 4):
        wire = encode_text(Packet(M, text), version)
        wire.encode("utf-8")
        assert wire == encode_frame(Packet(M, text), version)
        units = len(text.encode("utf-16-le", "surrogatepass")) // 2
        assert len(wire[1:].encode("utf-16-le")) // 2 == units
        if not any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
            assert wire[1:] == text
