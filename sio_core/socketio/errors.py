"""The Socket.IO layer's one error type for malformed input."""
from __future__ import annotations

__all__ = ["ProtocolError"]


class ProtocolError(Exception):
    """A malformed Socket.IO packet (type, namespace, ack id, JSON or attachments)."""
