"""Pure RFC 6455: the frame codec, the handshake's accept value and permessage-deflate
(RFC 7692), without I/O."""
from .deflate import (
    EXTENSION,
    DeflateOptions,
    DeflateParams,
    PerMessageDeflate,
    accept_response,
    client_offer,
    negotiate,
    parse_extensions,
)
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
    "EXTENSION", "DeflateOptions", "DeflateParams", "PerMessageDeflate", "accept_response",
    "client_offer", "negotiate", "parse_extensions",
    "LOCAL_CODES", "OP_BINARY", "OP_CLOSE", "OP_CONT", "OP_PING", "OP_PONG", "OP_TEXT", "Close",
    "Event", "FrameDecoder", "Ping", "Pong", "WebSocketProtocolError", "accept_key",
    "check_key", "encode_close", "encode_control", "encode_message", "frame_header", "unmask",
]
