"""BroadcastOperator: immutable (rooms, except rooms, flags) targets emitting via the adapter."""
from __future__ import annotations

import logging
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    FrozenSet,
    Iterable,
    List,
    NamedTuple,
    Optional,
    Set,
    Union,
)

from ..adapter.base import BroadcastOptions
from ..errors import AckTimeout, ReservedEventError
from ..socketio import Packet, PacketType
from . import runtime
from .clock import Clock

if TYPE_CHECKING:  # pragma: no cover
    from ..adapter.base import Adapter

__all__ = ["BroadcastOperator", "Flags", "AckCollector", "RESERVED_EVENTS", "check_event"]

log = logging.getLogger(__name__)

#: event names applications may not emit
RESERVED_EVENTS = frozenset(
    ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"])


def check_event(event: str) -> None:
    """Refuse reserved event names.

    :raises ReservedEventError: when ``event`` is reserved
    """
    if event in RESERVED_EVENTS:
        raise ReservedEventError('"%s" is a reserved event name' % event)

Rooms = Union[str, Iterable[str]]


class Flags(NamedTuple):
    """Emit flags of a broadcast."""

    volatile: bool = False
    local: bool = False
    compress: bool = True
    timeout: Optional[float] = None


_NO_FLAGS = Flags()


def _names(rooms: Rooms) -> FrozenSet[str]:
    return frozenset([rooms]) if isinstance(rooms, str) else frozenset(rooms)


class AckCollector:
    """Gathers the acks of a broadcast's recipients on every node, with one deadline.

    ``done(err, responses)`` is called exactly once: when every recipient answered,
    or at the timeout with ``AckTimeout`` and the answers so far.
    """

    __slots__ = ("done", "responses", "expected", "nodes_expected", "nodes_counted",
                 "finished", "timer")

    def __init__(self, done: Callable[[Optional[Exception], List[Any]], None],
                 timeout: float, nodes: int, clock: Clock) -> None:
        self.done = done
        self.responses: List[Any] = []
        self.expected = 0
        self.nodes_expected = nodes
        self.nodes_counted = 0
        self.finished = False
        self.timer = clock.call_later(timeout, self._timed_out)

    def on_count(self, count: int) -> None:
        """A node reports how many of its sockets got the packet."""
        self.expected += count
        self.nodes_counted += 1
        self._check()

    def on_ack(self, values: List[Any]) -> None:
        """One recipient answered with ``values``."""
        if self.finished:
            return
        self.responses.append(values[0] if len(values) == 1 else (tuple(values) or None))
        self._check()

    def _check(self) -> None:
        if (not self.finished and self.nodes_counted >= self.nodes_expected
                and len(self.responses) >= self.expected):
            self._finish(None)

    def _timed_out(self) -> None:
        if not self.finished:
            self._finish(AckTimeout("operation has timed out", list(self.responses)))

    def _finish(self, err: Optional[Exception]) -> None:
        self.finished = True
        self.timer.cancel()
        self.done(err, list(self.responses))


class BroadcastOperator:
    """Who a broadcast goes to; each method returns a new operator.

    :param adapter: the namespace's adapter
    :param rooms: target rooms (union; empty = everyone)
    :param except_rooms: rooms excluded
    :param flags: emit flags
    """

    __slots__ = ("adapter", "rooms", "except_rooms", "flags")

    def __init__(self, adapter: "Adapter", rooms: FrozenSet[str] = frozenset(),
                 except_rooms: FrozenSet[str] = frozenset(), flags: Flags = _NO_FLAGS) -> None:
        self.adapter = adapter
        self.rooms = rooms
        self.except_rooms = except_rooms
        self.flags = flags

    def _with(self, **changes: Any) -> "BroadcastOperator":
        values = {"rooms": self.rooms, "except_rooms": self.except_rooms, "flags": self.flags}
        values.update(changes)
        return BroadcastOperator(self.adapter, **values)

    def to(self, room: Rooms) -> "BroadcastOperator":
        """Add target room(s)."""
        return self._with(rooms=self.rooms | _names(room))

    in_ = to

    def except_(self, room: Rooms) -> "BroadcastOperator":
        """Exclude the members of room(s)."""
        return self._with(except_rooms=self.except_rooms | _names(room))

    @property
    def volatile(self) -> "BroadcastOperator":
        """Drop the packet for clients that cannot take it right now."""
        return self._with(flags=self.flags._replace(volatile=True))

    @property
    def local(self) -> "BroadcastOperator":
        """Stay on this node."""
        return self._with(flags=self.flags._replace(local=True))

    def compress(self, value: bool = True) -> "BroadcastOperator":
        """Per-message compression wish (websocket compression is off; kept for the API)."""
        return self._with(flags=self.flags._replace(compress=value))

    def timeout(self, seconds: float) -> "BroadcastOperator":
        """Collect acks for at most ``seconds``."""
        return self._with(flags=self.flags._replace(timeout=seconds))

    def options(self) -> BroadcastOptions:
        """These targets and flags as adapter options."""
        f = self.flags
        return BroadcastOptions(self.rooms, self.except_rooms, f.volatile, f.local, f.compress,
                                f.timeout)

    def emit(self, event: str, *args: Any,
             callback: Optional[Callable[[Optional[Exception], List[Any]], None]] = None) -> bool:
        """Send ``event`` to every target.

        With ``callback`` (requires ``timeout()``), it is called once as
        ``callback(err, responses)`` with every recipient's answer.

        :raises ReservedEventError: for reserved names
        """
        check_event(event)
        packet = Packet(PacketType.EVENT, self.adapter.nsp.name, [event, *args])
        if not runtime.in_hub_thread():  # an OS thread: hand the whole emit to the server,
            self.adapter.encode(packet)  # once a value with no JSON form raised here
            runtime.run_in_hub(lambda: self.emit(event, *args, callback=callback))
            return True
        if callback is None:
            self.adapter.broadcast(packet, self.options())  # encodes first: TypeError here
            return True
        if self.flags.timeout is None:
            raise ValueError("acks from a broadcast need a deadline: use .timeout(seconds).emit()")
        collector = AckCollector(
            lambda err, responses: runtime.spawn(callback, err, responses),
            self.flags.timeout, 1 if self.flags.local else self.adapter.server_count(),
            self.adapter.nsp.server.engine.clock)
        try:
            self.adapter.broadcast_with_ack(packet, self.options(), collector.on_count,
                                            collector.on_ack)
        except TypeError:  # no JSON form: raised in the caller, no timeout reported later
            collector.finished = True
            collector.timer.cancel()
            raise
        return True

    def call(self, event: str, *args: Any) -> List[Any]:
        """Emit and block until every recipient acked; return their answers.

        :raises AckTimeout: at the ``timeout()`` deadline, with ``.responses`` so far
        """
        result = runtime.AsyncResult()
        self.emit(event, *args, callback=lambda err, responses: (
            result.set_exception(err) if err else result.set(responses)))
        return result.get()

    def send(self, *args: Any, callback: Optional[Callable[..., None]] = None) -> bool:
        """Send a ``message`` event to every target."""
        return self.emit("message", *args, callback=callback)

    write = send

    # -- queries and remote operations ---------------------------------------------------

    def all_sockets(self) -> Set[str]:
        """Ids of the target sockets."""
        return self.adapter.all_sockets(self.options())

    def clients(self, callback: Optional[Callable[..., None]] = None) -> List[str]:
        """Ids of the target sockets (socket.io 2's ``clients(fn(err, ids))``)."""
        ids = sorted(self.all_sockets())
        if callback is not None:
            callback(None, ids)
        return ids

    def fetch_sockets(self) -> List[Any]:
        """The target sockets."""
        return self.adapter.fetch_sockets(self.options())

    def sockets_join(self, rooms: Rooms) -> None:
        """Make the target sockets join ``rooms``."""
        self.adapter.add_sockets(self.options(), sorted(_names(rooms)))

    def sockets_leave(self, rooms: Rooms) -> None:
        """Make the target sockets leave ``rooms``."""
        self.adapter.del_sockets(self.options(), sorted(_names(rooms)))

    def disconnect_sockets(self, close: bool = False) -> None:
        """Disconnect the target sockets."""
        self.adapter.disconnect_sockets(self.options(), close)
