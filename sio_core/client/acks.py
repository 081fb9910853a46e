"""The acks a client waits for: ids from one ``AckTable`` per namespace, and their waiters."""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Tuple

from .. import runtime
from ..errors import Disconnected
from ..socketio import AckTable

__all__ = ["AckWaiter", "PendingAcks"]


class AckWaiter:
    """What waits for one ack: a ``callback`` for ``emit()``, else a ``result`` for ``call()``."""

    __slots__ = ("result", "callback")

    def __init__(self, callback: Optional[Callable[..., Any]] = None) -> None:
        #: set to the ack's values (or to Disconnected) for a blocking call
        self.result = runtime.AsyncResult()
        #: called with the ack's values instead
        self.callback = callback


class PendingAcks:
    """The acks asked for and not answered yet, per namespace."""

    __slots__ = ("_tables",)

    def __init__(self) -> None:
        self._tables: Dict[str, AckTable] = {}

    def __len__(self) -> int:
        """How many acks are waited for, in every namespace."""
        return sum(len(table) for table in self._tables.values())

    def expect(self, namespace: str,
               callback: Optional[Callable[..., Any]] = None) -> Tuple[int, AckWaiter]:
        """A new ack id in ``namespace`` and the waiter registered under it."""
        waiter = AckWaiter(callback)
        table = self._tables.setdefault(namespace, AckTable())
        return table.allocate(waiter), waiter

    def resolve(self, namespace: str, ack_id: Optional[int]) -> Optional[AckWaiter]:
        """Remove and return the waiter of ``ack_id`` (None when unknown or given up)."""
        table = self._tables.get(namespace)
        return table.resolve(ack_id) if table is not None else None

    def fail(self, namespace: Optional[str] = None) -> None:
        """Give up the acks of ``namespace`` (of all when None): blocked calls raise
        ``Disconnected``, callbacks are never called."""
        for name in list(self._tables) if namespace is None else [namespace]:
            table = self._tables.get(name)
            for waiter in (table.drain() if table is not None else []):
                if waiter.callback is None:
                    waiter.result.set_exception(Disconnected("disconnected before the ack"))
