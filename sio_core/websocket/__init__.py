"""Pure RFC 6455: the frame codec and the handshake's accept value, without I/O."""
from .frames import (
    LOCAL_CODES,
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    Close,
    Event,
    FrameDecoder,
    Ping,
    Pong,
    WebSocketProtocolError,
    encode_close,
    encode_control,
    encode_message,
    frame_header,
    unmask,
)
from .handshake import accept_key, check_key

__all__ = [
    "LOCAL_CODES", "OP_BINARY", "OP_CLOSE", "OP_CONT", "OP_PING", "OP_PONG", "OP_TEXT", "Close",
    "Event", "FrameDecoder", "Ping", "Pong", "WebSocketProtocolError", "accept_key",
    "check_key", "encode_close", "encode_control", "encode_message", "frame_header", "unmask",
]
