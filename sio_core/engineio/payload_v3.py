"""Engine.IO 3 polling payloads.

Three framings exist in protocol 3:

- text payloads: every packet prefixed with its length and a colon, the length
  counted in UTF-16 code units as JavaScript counts string length;
- XHR2 binary payloads: per packet a byte 0 (text) or 1 (binary), the length as
  one byte per decimal digit, a byte 255, then the packet (lengths count bytes);
- JSONP: the text payload inside ``___eio[n]("...");`` going out, and a
  form-encoded ``d=<payload>`` body coming in.
"""
from __future__ import annotations

import json
import re
from typing import Callable, Iterable, List
from urllib.parse import parse_qs

from .errors import ProtocolError
from .packet import Packet, decode_binary, decode_text, encode_text

__all__ = [
    "utf16_length",
    "encode_payload",
    "encode_binary_payload",
    "decode_payload",
    "jsonp_wrap",
    "jsonp_unwrap",
]

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_ESCAPED_NEWLINE = re.compile(r"(\\)?\\n")
_DOUBLE_ESCAPED_NEWLINE = re.compile(r"\\\\n")
_MAX_LENGTH_DIGITS = 16


def utf16_length(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (what JavaScript's ``length`` says)."""
    if text.isascii():
        return len(text)
    return len(text) + len(_ASTRAL.findall(text))


def encode_payload(packets: Iterable[Packet]) -> str:
    """Encode packets as a protocol 3 text payload (binary messages as ``b4<base64>``)."""
    parts = []
    for packet in packets:
        text = encode_text(packet, 3)
        parts.append("%d:%s" % (utf16_length(text), text))
    return "".join(parts)


def encode_binary_payload(packets: Iterable[Packet]) -> bytes:
    """Encode packets as an XHR2 binary payload."""
    out = bytearray()
    for packet in packets:
        if isinstance(packet.data, bytes):
            body = bytes((packet.type,)) + packet.data
            out.append(1)
        else:
            body = encode_text(packet, 3).encode("utf-8")
            out.append(0)
        out += bytes(int(d) for d in str(len(body)))
        out.append(255)
        out += body
    return bytes(out)


def _decode_text_payload(body: str) -> List[Packet]:
    if _ASTRAL.search(body) is None:
        return _split_text(len(body), lambda a, b: body[a:b])
    units = body.encode("utf-16-le", "surrogatepass")

    def piece(start: int, end: int) -> str:
        return units[2 * start:2 * end].decode("utf-16-le", "surrogatepass")

    return _split_text(len(units) // 2, piece)


def _split_text(total: int, piece: Callable[[int, int], str]) -> List[Packet]:
    packets: List[Packet] = []
    pos = 0
    while pos < total:
        length = ""
        while True:
            if pos >= total:
                raise ProtocolError("payload ends inside a length prefix")
            char = piece(pos, pos + 1)
            pos += 1
            if char == ":":
                break
            if not ("0" <= char <= "9") or len(length) >= _MAX_LENGTH_DIGITS:
                raise ProtocolError("bad length prefix in payload")
            length += char
        if not length:
            raise ProtocolError("missing length prefix in payload")
        size = int(length)
        if size == 0 or pos + size > total:
            raise ProtocolError("payload length %d out of range" % size)
        packets.append(decode_text(piece(pos, pos + size), 3))
        pos += size
    return packets


def _decode_binary_payload(body: bytes) -> List[Packet]:
    packets: List[Packet] = []
    pos, total = 0, len(body)
    while pos < total:
        kind = body[pos]
        if kind not in (0, 1):
            raise ProtocolError("bad packet kind %d in binary payload" % kind)
        pos += 1
        size = 0
        digits = 0
        while True:
            if pos >= total:
                raise ProtocolError("binary payload ends inside a length")
            byte = body[pos]
            pos += 1
            if byte == 255:
                break
            if byte > 9 or digits >= _MAX_LENGTH_DIGITS:
                raise ProtocolError("bad length digit in binary payload")
            size = size * 10 + byte
            digits += 1
        if digits == 0 or size == 0 or pos + size > total:
            raise ProtocolError("binary payload length out of range")
        chunk = body[pos:pos + size]
        pos += size
        if kind == 0:
            try:
                packets.append(decode_text(chunk.decode("utf-8"), 3))
            except UnicodeDecodeError:
                raise ProtocolError("invalid UTF-8 in binary payload") from None
        else:
            packets.append(decode_binary(chunk, 3))
    return packets


def decode_payload(body: bytes) -> List[Packet]:
    """Decode a protocol 3 payload in either framing, chosen by its first byte.

    :param body: the request body
    :raises ProtocolError: on malformed input
    """
    if not body:
        raise ProtocolError("empty payload")
    if body[0] in (0, 1):
        return _decode_binary_payload(body)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("payload is not valid UTF-8") from None
    return _decode_text_payload(text)


def jsonp_wrap(payload: str, index: str) -> str:
    """Wrap a text payload as the JavaScript a JSONP GET answers with.

    :param payload: the text payload
    :param index: the ``j`` query parameter (non-digits are dropped)
    """
    digits = "".join(ch for ch in index if ch in "0123456789")
    return "___eio[%s](%s);" % (digits, json.dumps(payload, ensure_ascii=True))


def jsonp_unwrap(body: bytes) -> bytes:
    """Extract the payload from a JSONP POST body (form-encoded ``d=<payload>``).

    :raises ProtocolError: when there is no ``d`` field
    """
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise ProtocolError("JSONP body is not valid UTF-8") from None
    values = fields.get("d")
    if not values:
        raise ProtocolError("JSONP body has no d field")
    # the client escaped newlines as backslash-n and backslash-n as two backslashes-n
    text = _ESCAPED_NEWLINE.sub(lambda m: m.group(0) if m.group(1) else "\n", values[0])
    text = _DOUBLE_ESCAPED_NEWLINE.sub(lambda m: "\\n", text)
    return text.encode("utf-8")
