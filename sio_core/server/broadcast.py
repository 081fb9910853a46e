"""BroadcastOperator: immutable (rooms, except rooms, flags) targets emitting via the adapter."""
from __future__ import annotations

import importlib
import logging
import warnings
from typing import TYPE_CHECKING, Any, Callable, FrozenSet, Iterable, List, Optional, Set, Union

from .. import errors, runtime
from ..adapter.base import BroadcastOptions
from ..errors import AckTimeout
from ..socketio import Packet, PacketType, ack_result
from .clock import Clock

if TYPE_CHECKING:  # pragma: no cover
    from ..adapter.base import Adapter

__all__ = ["BroadcastOperator", "AckCollector"]

log = logging.getLogger(__name__)

Rooms = Union[str, Iterable[str]]

_EVERYONE = BroadcastOptions()

#: names that moved: the module now holding each, and its name there
_MOVED = {"Flags": ("sio_core.adapter", "BroadcastOptions"),
          "RESERVED_EVENTS": ("sio_core.socketio", "RESERVED_EVENTS"),
          "check_event": ("sio_core.errors", "check_event")}


def __getattr__(name: str) -> Any:
    """Deprecated names of this module."""
    if name in _MOVED:
        module, new_name = _MOVED[name]
        warnings.warn("sio_core.server.broadcast.%s is deprecated: use %s.%s"
                      % (name, module, new_name), DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(module), new_name)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


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
        self.responses.append(ack_result(values))
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


_LOOP_CLOCK = Clock()

class BroadcastOperator:
    """Who a broadcast goes to and how; each method returns a new operator.

    :param adapter: the namespace's adapter
    :param opts: targets and flags (default: everyone, no flags)
    :param clock: arms the deadline of acks from a broadcast (default: the event loop's)
    """

    __slots__ = ("adapter", "opts", "clock")

    def __init__(self, adapter: "Adapter", opts: BroadcastOptions = _EVERYONE,
                 clock: Optional[Clock] = None) -> None:
        self.adapter = adapter
        #: targets and flags, as the adapter takes them
        self.opts = opts
        #: the clock of the ack deadline
        self.clock = clock if clock is not None else _LOOP_CLOCK

    def _with(self, **changes: Any) -> "BroadcastOperator":
        return BroadcastOperator(self.adapter, self.opts._replace(**changes), self.clock)

    @property
    def rooms(self) -> FrozenSet[str]:
        """The target rooms (empty: everyone)."""
        return self.opts.rooms

    @property
    def except_rooms(self) -> FrozenSet[str]:
        """The rooms whose members are skipped."""
        return self.opts.except_rooms

    def to(self, room: Rooms) -> "BroadcastOperator":
        """Add target room(s)."""
        return self._with(rooms=self.opts.rooms | _names(room))

    in_ = to

    def except_(self, room: Rooms) -> "BroadcastOperator":
        """Exclude the members of room(s)."""
        return self._with(except_rooms=self.opts.except_rooms | _names(room))

    @property
    def volatile(self) -> "BroadcastOperator":
        """Drop the packet for clients that cannot take it right now."""
        return self._with(volatile=True)

    @property
    def local(self) -> "BroadcastOperator":
        """Stay on this node."""
        return self._with(local=True)

    def compress(self, value: bool = True) -> "BroadcastOperator":
        """``compress(False)``: the packet is never compressed on the websocket."""
        return self._with(compress=value)

    def timeout(self, seconds: float) -> "BroadcastOperator":
        """Collect acks for at most ``seconds``."""
        return self._with(timeout=seconds)

    def options(self) -> BroadcastOptions:
        """These targets and flags as the adapter takes them."""
        return self.opts

    def emit(self, event: str, *args: Any,
             callback: Optional[Callable[[Optional[Exception], List[Any]], None]] = None) -> bool:
        """Send ``event`` to every target.

        With ``callback`` (requires ``timeout()``), it is called once as
        ``callback(err, responses)`` with every recipient's answer.

        :raises ReservedEventError: for reserved names
        """
        errors.check_event(event)
        packet = Packet(PacketType.EVENT, self.adapter.nsp.name, [event, *args])
        if not runtime.in_hub_thread():  # an OS thread: hand the whole emit to the server,
            self.adapter.encode(packet)  # once a value with no JSON form raised here
            runtime.run_in_hub(lambda: self.emit(event, *args, callback=callback))
            return True
        if callback is None:
            self.adapter.broadcast(packet, self.opts)  # encodes first: TypeError here
            return True
        opts = self.opts
        if opts.timeout is None:
            raise ValueError("acks from a broadcast need a deadline: use .timeout(seconds).emit()")
        collector = AckCollector(
            lambda err, responses: runtime.spawn(callback, err, responses),
            opts.timeout, 1 if opts.local else self.adapter.server_count(),
            self.clock)
        try:
            self.adapter.broadcast_with_ack(packet, opts, collector.on_count,
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
        return self.adapter.all_sockets(self.opts)

    def clients(self, callback: Optional[Callable[..., None]] = None) -> List[str]:
        """Ids of the target sockets (socket.io 2's ``clients(fn(err, ids))``)."""
        ids = sorted(self.all_sockets())
        if callback is not None:
            callback(None, ids)
        return ids

    def fetch_sockets(self) -> List[Any]:
        """The target sockets."""
        return self.adapter.fetch_sockets(self.opts)

    def sockets_join(self, rooms: Rooms) -> None:
        """Make the target sockets join ``rooms``."""
        self.adapter.add_sockets(self.opts, sorted(_names(rooms)))

    def sockets_leave(self, rooms: Rooms) -> None:
        """Make the target sockets leave ``rooms``."""
        self.adapter.del_sockets(self.opts, sorted(_names(rooms)))

    def disconnect_sockets(self, close: bool = False) -> None:
        """Disconnect the target sockets."""
        self.adapter.disconnect_sockets(self.opts, close)
