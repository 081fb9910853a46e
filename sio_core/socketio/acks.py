"""The ack table: ids for outgoing packets that expect an answer, and their waiters."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

__all__ = ["AckTable", "ack_result", "ack_values"]


def ack_values(result: Any) -> List[Any]:
    """The arguments an ACK packet carries for a handler's return value.

    ``None`` answers with no argument, a tuple with one argument per item, anything else
    with itself as the only argument. Server, client and test clients all follow this rule.
    """
    if result is None:
        return []
    if isinstance(result, tuple):
        return list(result)
    return [result]


def ack_result(values: Sequence[Any]) -> Any:
    """What a blocking ``call()`` returns for an ACK's arguments (the inverse of
    :func:`ack_values`): ``None`` for none, the value itself for one, a tuple for several."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return tuple(values)


class AckTable:
    """Allocates ack ids and holds an opaque waiter for each until answered or cancelled."""

    __slots__ = ("_next", "_pending")

    def __init__(self) -> None:
        self._next = 0
        self._pending: Optional[Dict[int, Any]] = None

    def __len__(self) -> int:
        return len(self._pending) if self._pending else 0

    def allocate(self, waiter: Any) -> int:
        """Store ``waiter`` and return its new id."""
        ack_id = self._next
        self._next += 1
        if self._pending is None:
            self._pending = {}
        self._pending[ack_id] = waiter
        return ack_id

    def register(self, ack_id: int, waiter: Any) -> None:
        """Store ``waiter`` under an id chosen elsewhere (shared by a broadcast's recipients)."""
        if self._pending is None:
            self._pending = {}
        self._pending[ack_id] = waiter

    def resolve(self, ack_id: Optional[int]) -> Optional[Any]:
        """Remove and return the waiter of ``ack_id`` (None when unknown, done, or no id)."""
        if not self._pending or ack_id is None:
            return None
        return self._pending.pop(ack_id, None)

    def drain(self) -> List[Any]:
        """Remove and return every waiter (the connection is gone)."""
        if not self._pending:
            return []
        waiters = list(self._pending.values())
        self._pending = None
        return waiters
