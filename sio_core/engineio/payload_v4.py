"""Engine.IO 4 polling payloads: packets joined by the record separator ``\\x1e``."""
from __future__ import annotations

from typing import Iterable, List

from .errors import ProtocolError
from .packet import Packet, decode_text, encode_text

__all__ = ["SEPARATOR", "encode_payload", "decode_payload"]

#: record separator between packets
SEPARATOR = "\x1e"


def encode_payload(packets: Iterable[Packet]) -> str:
    """Encode packets as one protocol 4 payload (binary messages in base64)."""
    return SEPARATOR.join([encode_text(p, 4) for p in packets])


def decode_payload(body: str) -> List[Packet]:
    """Decode a protocol 4 payload.

    :param body: the payload text
    :raises ProtocolError: on an empty payload or a malformed packet
    """
    if not body:
        raise ProtocolError("empty payload")
    return [decode_text(part, 4) for part in body.split(SEPARATOR)]
