"""Broker messages between nodes: what a multi-node adapter publishes, as bytes.

Pure: frozen values and their encoding; no I/O. Wire format (version 1)::

    <JSON header> "\\n" (<4-byte big-endian length> <attachment bytes>)*

The header holds the type, the sender's node id, the namespace, an optional
request id and a JSON body; binary attachments travel raw after it.
"""
from __future__ import annotations

import struct
from enum import Enum
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from ..socketio import default_dumps, default_loads

__all__ = ["MessageType", "BrokerMessage", "MessageError", "encode_message", "decode_message",
           "options_to_dict", "options_from_dict", "VERSION"]

#: wire format version
VERSION = 1


class MessageError(Exception):
    """A broker message that cannot be decoded."""


class MessageType(str, Enum):
    """Kinds of broker messages."""

    BROADCAST = "broadcast"
    BROADCAST_ACK = "broadcast-ack"  # request: broadcast whose acks are collected
    ACK_COUNT = "ack-count"  # response: how many clients got it on one node
    ACK = "ack"  # response: one client's answer
    SOCKETS = "sockets"  # request: sockets matching options
    SOCKETS_RESPONSE = "sockets-response"
    JOIN = "join"
    LEAVE = "leave"
    DISCONNECT = "disconnect"


class BrokerMessage(NamedTuple):
    """One message between nodes."""

    type: MessageType
    uid: str
    nsp: str
    body: Dict[str, Any]
    attachments: Tuple[bytes, ...] = ()
    request_id: Optional[str] = None


def encode_message(message: BrokerMessage) -> bytes:
    """Serialise ``message``."""
    header = {"v": VERSION, "t": message.type.value, "u": message.uid, "n": message.nsp,
              "b": message.body}
    if message.request_id is not None:
        header["r"] = message.request_id
    # JSON as JavaScript writes it: room names may hold lone surrogates, numbers be infinite
    parts = [default_dumps(header).encode("utf-8"), b"\n"]
    for attachment in message.attachments:
        parts.append(struct.pack("!I", len(attachment)))
        parts.append(bytes(attachment))
    return b"".join(parts)


def decode_message(data: bytes) -> BrokerMessage:
    """Parse a message.

    :raises MessageError: on anything malformed or of another version
    """
    newline = data.find(b"\n")
    if newline < 0:
        raise MessageError("no header terminator")
    try:
        header = default_loads(data[:newline].decode("utf-8"))
        if header.get("v") != VERSION:
            raise MessageError("unsupported message version %r" % header.get("v"))
        mtype = MessageType(header["t"])
        uid, nsp, body = header["u"], header["n"], header["b"]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise MessageError("bad header: %s" % exc) from None
    if not isinstance(body, dict) or not isinstance(uid, str) or not isinstance(nsp, str):
        raise MessageError("bad header fields")
    attachments: List[bytes] = []
    pos = newline + 1
    while pos < len(data):
        if pos + 4 > len(data):
            raise MessageError("truncated attachment length")
        (size,) = struct.unpack("!I", data[pos:pos + 4])
        pos += 4
        if pos + size > len(data):
            raise MessageError("truncated attachment")
        attachments.append(data[pos:pos + size])
        pos += size
    return BrokerMessage(mtype, uid, nsp, body, tuple(attachments), header.get("r"))


def options_to_dict(opts: Any) -> Dict[str, Any]:
    """Broadcast options as JSON-able data."""
    return {"rooms": sorted(opts.rooms), "except": sorted(opts.except_rooms),
            "volatile": opts.volatile, "compress": opts.compress}


def options_from_dict(data: Dict[str, Any]) -> Dict[str, Any]:
    """Keyword arguments for ``BroadcastOptions`` from ``options_to_dict`` output.

    :raises MessageError: on wrong types
    """
    rooms, excepted = data.get("rooms", []), data.get("except", [])
    if not isinstance(rooms, list) or not isinstance(excepted, list):
        raise MessageError("rooms must be lists")
    return {"rooms": frozenset(map(str, rooms)), "except_rooms": frozenset(map(str, excepted)),
            "volatile": bool(data.get("volatile")), "compress": bool(data.get("compress", True)),
            "local": True}
