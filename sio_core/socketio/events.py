"""Event names: which ones the protocol keeps for itself.

Neither side may send these as events: each has a meaning of its own on the other side
(``connect``, ``disconnect``...), and a client sending one would run the application's
own handlers with the client's arguments.
"""
from __future__ import annotations

__all__ = ["RESERVED_EVENTS", "is_reserved"]

#: event names applications may not emit, and clients may not send
RESERVED_EVENTS = frozenset(
    ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"])


def is_reserved(event: object) -> bool:
    """Whether ``event`` is a reserved name."""
    return event in RESERVED_EVENTS
