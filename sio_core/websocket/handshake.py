"""The opening handshake's arithmetic (RFC 6455, 4.2): key checks and the accept value."""
from __future__ import annotations

import base64
import binascii
import hashlib

from .frames import WebSocketProtocolError

__all__ = ["accept_key", "check_key"]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def check_key(key: str) -> str:
    """A client's ``Sec-WebSocket-Key``, stripped, once it is checked to be 16 bytes in base64.

    :raises WebSocketProtocolError: for a missing or malformed key
    """
    key = key.strip()
    try:
        raw = base64.b64decode(key.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise WebSocketProtocolError("Sec-WebSocket-Key is not base64: %r" % key) from None
    if len(raw) != 16:
        raise WebSocketProtocolError("Sec-WebSocket-Key is not 16 bytes: %r" % key)
    return key


def accept_key(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` value answering the client's ``Sec-WebSocket-Key``."""
    digest = hashlib.sha1(key.strip().encode("latin-1") + _GUID).digest()
    return base64.b64encode(digest).decode("ascii")
