"""Pure Engine.IO: packets, payloads, handshake, origin policy, heartbeat and sessions."""
from .cors import OriginPolicy
from .errors import (
    BadHandshakeMethod,
    BadRequest,
    EngineError,
    Forbidden,
    OverlappingRequest,
    PayloadTooLarge,
    ProtocolError,
    RequestError,
    SessionUnknown,
    TransportUnknown,
    UnreadableBody,
    UnsupportedProtocolVersion,
)
from .handshake import EngineQuery, open_packet, parse_query
from .heartbeat import heartbeat_for
from .options import CookieOptions, EngineOptions
from .packet import SUPPORTED_VERSIONS, Packet, PacketType, UncompressedPacket
from .reasons import CloseReason
from .session import Closed, Message, SendResult, Session, SessionState

__all__ = [
    "BadHandshakeMethod", "BadRequest", "CloseReason", "Closed", "CookieOptions", "EngineError",
    "EngineOptions", "EngineQuery", "Forbidden", "Message", "OriginPolicy", "OverlappingRequest",
    "Packet", "PacketType", "PayloadTooLarge", "ProtocolError", "RequestError",
    "SUPPORTED_VERSIONS", "SendResult", "Session", "SessionState", "SessionUnknown",
    "TransportUnknown", "UncompressedPacket", "UnreadableBody", "UnsupportedProtocolVersion",
    "heartbeat_for",
    "open_packet",
    "parse_query",
]
