"""Engine.IO packets and their encodings, for protocols 3 and 4.

A packet is encoded in one of two contexts:

- a *text* context (a polling payload, or a text websocket frame), where binary
  messages become ``b<base64>`` (protocol 4) or ``b4<base64>`` (protocol 3);
- a *frame* context (one websocket frame), where binary messages are sent as a
  binary frame: the raw data (protocol 4) or the byte 4 followed by the data
  (protocol 3).
"""
from __future__ import annotations

import base64
import binascii
from enum import IntEnum
from typing import NamedTuple, Union

from .errors import ProtocolError

__all__ = [
    "PacketType",
    "Packet",
    "UncompressedPacket",
    "Data",
    "encode_text",
    "encode_frame",
    "decode_text",
    "decode_frame",
    "decode_binary",
    "SUPPORTED_VERSIONS",
    "well_formed",
]

#: Engine.IO protocol revisions this server speaks
SUPPORTED_VERSIONS = (3, 4)

Data = Union[str, bytes]


class PacketType(IntEnum):
    """Engine.IO packet types."""

    OPEN = 0
    CLOSE = 1
    PING = 2
    PONG = 3
    MESSAGE = 4
    UPGRADE = 5
    NOOP = 6


class Packet(NamedTuple):
    """One Engine.IO packet: a type and its data (text, or bytes for binary messages)."""

    type: PacketType
    data: Data = ""

    @property
    def compress(self) -> bool:
        """Whether a websocket may compress it (``UncompressedPacket`` says no)."""
        return True

    @property
    def binary(self) -> bool:
        """True when the packet carries bytes."""
        return isinstance(self.data, bytes)


class UncompressedPacket(Packet):
    """A message packet the websocket sends uncompressed (``socket.compress(False)``);
    equal to the ``Packet`` of the same type and data."""

    __slots__ = ()

    @property
    def compress(self) -> bool:
        """Never."""
        return False


_TYPES = tuple(PacketType)
_DIGITS = {str(t.value): t for t in PacketType}


def well_formed(text: str) -> str:
    """``text`` as it can go on the wire as UTF-8, the way Node's ``Buffer.from`` writes it.

    A Python ``str`` may hold surrogate code units (an application's own string, or one
    decoded from a JSON escape); a high and low pair becomes its one character and a
    lone surrogate becomes U+FFFD. Every text message passes here on its way to bytes.

    :param text: the message text
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")  # faster than searching for surrogates
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def encode_text(packet: Packet, version: int) -> str:
    """Encode ``packet`` for a text context.

    :param packet: the packet to encode
    :param version: Engine.IO protocol revision, 3 or 4
    """
    data = packet.data
    if isinstance(data, bytes):
        b64 = base64.b64encode(data).decode("ascii")
        if version == 3:
            return "b%d%s" % (packet.type, b64)
        return "b" + b64
    return "%d%s" % (packet.type, well_formed(data))


def encode_frame(packet: Packet, version: int) -> Data:
    """Encode ``packet`` as one websocket frame body (``str`` for text, ``bytes`` for binary).

    :param packet: the packet to encode
    :param version: Engine.IO protocol revision, 3 or 4
    """
    data = packet.data
    if isinstance(data, bytes):
        if version == 3:
            return bytes((packet.type,)) + data
        return data
    return "%d%s" % (packet.type, data if data.isascii() else well_formed(data))


def decode_text(text: str, version: int) -> Packet:
    """Decode one packet from its text form.

    :param text: the encoded packet
    :param version: Engine.IO protocol revision, 3 or 4
    :raises ProtocolError: on an empty string, an unknown type or bad base64
    """
    if not text:
        raise ProtocolError("empty packet")
    head = text[0]
    if head == "b":
        if version == 3:
            if len(text) < 2 or text[1] not in _DIGITS:
                raise ProtocolError("bad binary packet type in %r" % text[:8])
            ptype, body = _DIGITS[text[1]], text[2:]
        else:
            ptype, body = PacketType.MESSAGE, text[1:]
        try:
            return Packet(ptype, base64.b64decode(body.encode("ascii"), validate=True))
        except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
            raise ProtocolError("bad base64 in binary packet: %s" % exc) from None
    plain_type = _DIGITS.get(head)
    if plain_type is None:
        raise ProtocolError("unknown packet type %r" % head)
    return Packet(plain_type, text[1:])


def decode_binary(data: bytes, version: int) -> Packet:
    """Decode a binary packet (a binary websocket frame or a binary payload entry).

    :param data: the raw bytes
    :param version: Engine.IO protocol revision, 3 or 4
    :raises ProtocolError: when a protocol 3 packet lacks its type byte
    """
    if version == 3:
        if not data:
            raise ProtocolError("empty binary packet")
        if data[0] >= len(_TYPES):
            raise ProtocolError("unknown binary packet type %d" % data[0])
        return Packet(_TYPES[data[0]], bytes(data[1:]))
    return Packet(PacketType.MESSAGE, bytes(data))


def decode_frame(frame: Data, version: int) -> Packet:
    """Decode one websocket frame body (``str`` for text frames, ``bytes`` for binary).

    :param frame: the frame body
    :param version: Engine.IO protocol revision, 3 or 4
    :raises ProtocolError: on malformed input
    """
    if isinstance(frame, str):
        return decode_text(frame, version)
    return decode_binary(frame, version)
