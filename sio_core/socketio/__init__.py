"""Pure Socket.IO: packets, binary attachments, the decoder, protocol policies, ack ids."""
from .acks import AckTable, ack_result, ack_values
from .binary import has_binary, join_binary, split_binary
from .decoder import MAX_DEPTH, Decoder, decode_text
from .errors import ProtocolError
from .events import RESERVED_EVENTS, is_reserved
from .jsontext import javascript_json, javascript_numbers
from .packet import (
    EncodedPacket,
    Packet,
    PacketType,
    default_dumps,
    default_loads,
    encode,
    refuses_binary,
)
from .recovery import (
    RECOVERABLE_REASONS,
    PacketLog,
    PersistedSession,
    RecoveryOptions,
    SessionStore,
    is_recoverable,
    recovery_auth,
    recovery_request,
    reply_pid,
)
from .versions import V4, V5, Protocol, protocol_for

__all__ = [
    "AckTable", "Decoder", "EncodedPacket", "MAX_DEPTH", "Packet", "PacketLog", "PacketType",
    "PersistedSession", "Protocol", "ProtocolError", "RECOVERABLE_REASONS", "RESERVED_EVENTS",
    "RecoveryOptions", "SessionStore", "V4", "V5", "ack_result", "ack_values", "decode_text",
    "default_dumps", "default_loads", "encode", "has_binary", "is_recoverable", "is_reserved",
    "refuses_binary", "javascript_json", "javascript_numbers", "join_binary", "protocol_for",
    "recovery_auth", "recovery_request", "reply_pid", "split_binary",
]
