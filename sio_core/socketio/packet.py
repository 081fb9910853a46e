"""Socket.IO packets and their text encoding (identical in protocols 4 and 5)."""
from __future__ import annotations

from enum import IntEnum
from typing import Any, Callable, List, NamedTuple, Optional

from . import jsontext
from .binary import has_binary, split_binary

__all__ = ["PacketType", "Packet", "EncodedPacket", "encode", "default_dumps", "default_loads",
           "refuses_binary"]


class PacketType(IntEnum):
    """Socket.IO packet types."""

    CONNECT = 0
    DISCONNECT = 1
    EVENT = 2
    ACK = 3
    CONNECT_ERROR = 4  # called ERROR in protocol 4
    BINARY_EVENT = 5
    BINARY_ACK = 6


class Packet(NamedTuple):
    """A decoded Socket.IO packet; ``data`` may hold bytes anywhere."""

    type: PacketType
    namespace: str = "/"
    data: Any = None
    id: Optional[int] = None


class EncodedPacket(NamedTuple):
    """A packet ready for Engine.IO: one text message, then its binary attachments."""

    text: str
    attachments: List[bytes]

    def messages(self) -> List[Any]:
        """The Engine.IO messages to send, in order."""
        return [self.text, *self.attachments] if self.attachments else [self.text]


_REFUSES_BINARY = "_sio_refuses_binary"


def refuses_binary(dumps: Callable[[Any], str]) -> Callable[[Any], str]:
    """Declare that ``dumps`` raises TypeError for bytes, bytearray and memoryview wherever
    they are in the value (the standard library's ``json`` and orjson do): ``encode`` then
    tries it first and walks the data for binary values only when it refuses.

    :returns: ``dumps``
    """
    setattr(dumps, _REFUSES_BINARY, True)
    return dumps


#: compact JSON as ``JSON.stringify`` writes it (see :mod:`.jsontext`)
default_dumps = refuses_binary(jsontext.dumps)
#: JSON parsing as ``JSON.parse`` does it: ``NaN``/``Infinity`` refused
default_loads = jsontext.loads

_BINARY_OF = {PacketType.EVENT: PacketType.BINARY_EVENT, PacketType.ACK: PacketType.BINARY_ACK}
#: the type digit that starts a packet without attachments
_HEAD = {ptype: str(int(ptype)) for ptype in PacketType}


def encode(packet: Packet, dumps: Callable[[Any], str] = default_dumps) -> EncodedPacket:
    """Encode ``packet``; bytes in EVENT/ACK data become attachments.

    :param packet: the packet
    :param dumps: JSON encoder returning ``str``
    """
    ptype, namespace, data, ack_id = packet
    attachments: List[bytes] = []
    text = None
    if ptype in _BINARY_OF:
        if data is not None and getattr(dumps, _REFUSES_BINARY, False):
            try:  # the usual data has no binary value: no walk through it
                text = dumps(data)
            except TypeError:
                if not has_binary(data):
                    raise
        if text is None and has_binary(data):
            data, attachments = split_binary(data)
            ptype = _BINARY_OF[ptype]
    if ptype is PacketType.BINARY_EVENT or ptype is PacketType.BINARY_ACK:
        head = "%d%d-" % (ptype, len(attachments))
    else:
        head = _HEAD[ptype]
    if namespace != "/":
        head += namespace + ","
    if ack_id is not None:
        head += str(ack_id)
    if text is not None:
        head += text
    elif data is not None:
        head += dumps(data)
    return EncodedPacket(head, attachments)
