"""Pure Socket.IO: packets, binary attachments, the decoder, protocol policies, ack ids."""
from .acks import AckTable, ack_result, ack_values
from .binary import has_binary, join_binary, split_binary
from .decoder import MAX_DEPTH, Decoder, decode_text
from .errors import ProtocolError
from .jsontext import javascript_json
from .packet import EncodedPacket, Packet, PacketType, default_dumps, default_loads, encode
from .versions import V4, V5, Protocol, protocol_for

__all__ = [
    "AckTable", "ack_result", "ack_values", "Decoder", "EncodedPacket", "MAX_DEPTH", "Packet", "PacketType", "Protocol",
    "ProtocolError", "V4", "V5", "decode_text", "default_dumps", "default_loads", "encode",
    "has_binary", "javascript_json", "join_binary", "protocol_for", "split_binary",
]
