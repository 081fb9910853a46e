"""Why an Engine.IO session closed, in the words socket.io uses."""
from __future__ import annotations

from enum import Enum

__all__ = ["CloseReason"]


class CloseReason(str, Enum):
    """Close reasons reported to the layer above."""

    TRANSPORT_CLOSE = "transport close"
    TRANSPORT_ERROR = "transport error"
    PING_TIMEOUT = "ping timeout"
    FORCED_CLOSE = "forced close"
    SERVER_SHUTTING_DOWN = "server shutting down"
    PARSE_ERROR = "parse error"

    def __str__(self) -> str:
        return self.value
