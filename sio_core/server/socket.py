"""Socket: one client's connection to one namespace."""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Tuple, Union

from .. import debug, runtime
from ..adapter.base import BroadcastOptions
from ..debug import trace
from ..engineio import CloseReason
from ..errors import AckTimeout, Disconnected, check_event
from ..http import Request
from ..socketio import (
    RESERVED_EVENTS,
    AckTable,
    Packet,
    PacketType,
    PersistedSession,
    ack_result,
    ack_values,
    encode,
    is_recoverable,
)
from .broadcast import BroadcastOperator
from .emitter import Listeners

if TYPE_CHECKING:  # pragma: no cover
    from .client import Client
    from .namespace import Namespace

__all__ = ["Socket", "Handshake", "Ack", "SocketFlags"]

log = logging.getLogger(__name__)

class Handshake:
    """What the client sent when it connected (socket.io's ``socket.handshake``)."""

    __slots__ = ("headers", "time", "address", "xdomain", "secure", "issued", "url", "query",
                 "auth")

    def __init__(self, request: Request, query: Dict[str, str],
                 auth: Optional[Dict[str, Any]]) -> None:
        #: request headers, lower-case names
        self.headers = dict(request.headers)
        #: when the connection was made, as a date string
        self.time = time.strftime("%a %b %d %Y %H:%M:%S GMT", time.gmtime())
        #: the client's IP address
        self.address = request.remote_addr
        #: whether the request was cross-origin
        self.xdomain = bool(request.origin)
        #: whether it came over TLS
        self.secure = request.scheme == "https"
        #: when it was issued, in milliseconds since the epoch
        self.issued = int(time.time() * 1000)
        #: the request URL (path and query)
        self.url = request.url
        #: query parameters (the connection's, merged with a protocol 4 namespace query)
        self.query = query
        #: the auth payload of a protocol 5 CONNECT (empty dict otherwise)
        self.auth = auth if auth is not None else {}

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


class _ResultWaiter:
    """Ack waiter for ``call()``: a blocking result."""

    __slots__ = ("result",)

    def __init__(self) -> None:
        self.result = runtime.AsyncResult()

    def __call__(self, values: List[Any]) -> None:
        self.result.set(values)

    def fail(self, error: Exception) -> None:
        self.result.set_exception(error)


class _CallbackWaiter:
    """Ack waiter for ``emit(..., callback=fn)``; with a timeout, ``fn(err, *values)``."""

    __slots__ = ("socket", "fn", "timer", "ack_id")

    def __init__(self, socket: "Socket", fn: Callable[..., Any], ack_id: int,
                 timeout: Optional[float]) -> None:
        self.socket = socket
        self.fn = fn
        self.ack_id = ack_id
        self.timer = None if timeout is None else \
            socket.client.conn.engine.clock.call_later(timeout, self._timed_out)

    def __call__(self, values: List[Any]) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.socket.schedule(self.fn, None, *values)
        else:
            self.socket.schedule(self.fn, *values)

    def _timed_out(self) -> None:
        if self.socket.acks.resolve(self.ack_id) is self:
            self.socket.schedule(self.fn, AckTimeout("operation has timed out"))

    def fail(self, error: Exception) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.socket.schedule(self.fn, error)


class Ack:
    """The callable a handler gets as last argument when the client asked for an ack.

    Calling it sends the values back once; later calls do nothing.
    """

    __slots__ = ("socket", "id", "sent")

    def __init__(self, socket: "Socket", ack_id: int) -> None:
        self.socket = socket
        self.id = ack_id
        #: whether the ack went out
        self.sent = False

    def __call__(self, *values: Any) -> None:
        self._send(list(values))

    def _send(self, values: List[Any]) -> None:
        """Send ``values`` (a list of its own) unless the ack went out already."""
        if self.sent:
            return
        socket = self.socket
        messages = encode(Packet(PacketType.ACK, socket.nsp.name, values, self.id),
                          socket.nsp.server.dumps).messages()  # raises before "sent" is set
        self.sent = True
        socket.client.write_messages(messages)

    def __repr__(self) -> str:
        return "<Ack %s>" % self.id


#: a socket seen through no flag
_NO_FLAGS = BroadcastOptions()


class SocketFlags:
    """A socket seen through emit flags (``socket.volatile``, ``socket.timeout(5)``...).

    :param socket: the socket emitted to
    :param opts: the flags (a ``BroadcastOptions`` whose rooms stay empty)
    """

    __slots__ = ("_socket", "opts")

    def __init__(self, socket: "Socket", opts: BroadcastOptions = _NO_FLAGS) -> None:
        self._socket = socket
        #: the flags
        self.opts = opts

    @property
    def volatile(self) -> "SocketFlags":
        """Drop the packet if the transport is not writable now."""
        return SocketFlags(self._socket, self.opts._replace(volatile=True))

    def compress(self, value: bool = True) -> "SocketFlags":
        """Compress the next packet on the websocket (the default when permessage-deflate
        was agreed and it reaches the threshold) or, with False, never."""
        return SocketFlags(self._socket, self.opts._replace(compress=value))

    def timeout(self, seconds: float) -> "SocketFlags":
        """Give acks a deadline: the callback gets ``(err, *values)``."""
        return SocketFlags(self._socket, self.opts._replace(timeout=seconds))

    def emit(self, event: str, *args: Any, callback: Optional[Callable[..., Any]] = None) -> bool:
        """Emit ``event`` with these flags."""
        return self._socket._emit(event, args, callback, self.opts.volatile, self.opts.timeout,
                                  self.opts.compress)

    def send(self, *args: Any, callback: Optional[Callable[..., Any]] = None) -> bool:
        """Emit ``message`` with these flags."""
        return self._socket._emit("message", args, callback, self.opts.volatile,
                                  self.opts.timeout, self.opts.compress)

    def call(self, event: str, *args: Any, timeout: Optional[float] = None) -> Any:
        """Emit and wait for the ack; see ``Socket.call``."""
        return self._socket.call(event, *args, timeout=timeout or self.opts.timeout)


class Socket(Listeners):
    """A client connected to a namespace.

    Incoming events are queued and run in order by one greenlet that exists only
    while events are queued; acks from the client are handled by the reader at once,
    so a handler blocked in ``call()`` still gets its answer.
    """

    __slots__ = ("nsp", "client", "id", "handshake", "acks", "connected", "data",
                 "_inbox", "_middlewares", "_closing_rooms", "_request", "_early",
                 "_queued_bytes", "pid", "recovered", "_resumed", "__weakref__")

    def __init__(self, nsp: "Namespace", client: "Client", socket_id: str,
                 handshake: Handshake) -> None:
        super().__init__()
        self.nsp = nsp
        self.client = client
        #: the socket id
        self.id = socket_id
        #: connection details
        self.handshake = handshake
        #: acks this socket waits for
        self.acks = AckTable()
        #: whether the socket is connected
        self.connected = False
        #: free slot for the application (socket.io's ``socket.data``)
        self.data: Dict[str, Any] = {}
        self._inbox: Optional[runtime.SerialQueue] = None  # made at the first event
        self._queued_bytes = 0  # size of the events waiting in the inbox
        self._middlewares: Optional[List[Callable[..., Any]]] = None
        self._closing_rooms: Optional[set] = None
        self._request: Any = None
        # packets emitted while the connection is being admitted (by a connect
        # middleware or handler), encoded, with their compress flag; sent right after the
        # CONNECT reply
        self._early: Optional[List[Tuple[List[Any], bool]]] = []
        #: the private session id of connection state recovery (None when it is off)
        self.pid: Optional[str] = None
        #: whether this connection recovered a dropped session (its id, rooms, ``data``
        #: and the packets it missed)
        self.recovered = False
        self._resumed: Optional[Tuple[PersistedSession, str]] = None  # until connected

    def __repr__(self) -> str:
        return "<Socket %s %s>" % (self.nsp.name, self.id)

    # -- properties ----------------------------------------------------------------

    @property
    def conn(self) -> Any:
        """The Engine.IO connection under this socket."""
        return self.client.conn

    @property
    def environ(self) -> Dict[str, Any]:
        """The WSGI environ of the request that opened the connection (the handshake)."""
        return self.client.conn.environ

    @property
    def protocol(self) -> int:
        """The Socket.IO protocol revision the client speaks: 4 (socket.io 2) or 5."""
        return self.client.protocol.revision

    @property
    def request(self) -> Any:
        """The handshake request, as the server's ``request_factory`` makes it (a werkzeug
        ``Request`` under ``sio_core.Server``), built once for this socket."""
        if self._request is None:
            self._request = self.client.make_request()
        return self._request

    @property
    def rooms(self) -> set:
        """The rooms this socket is in (a copy)."""
        if self._closing_rooms is not None:
            return set(self._closing_rooms)
        return self.nsp.adapter.socket_rooms(self.id)

    @property
    def disconnected(self) -> bool:
        """Whether the socket is not connected."""
        return not self.connected

    # -- the per-socket handler queue ------------------------------------------------

    def schedule(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` after everything already queued for this socket."""
        inbox = self._inbox
        if inbox is None:
            inbox = self._inbox = runtime.SerialQueue(self._handler_failed)
        inbox.schedule(fn, *args)

    @property
    def _worker(self) -> Optional[runtime.Greenlet]:
        """The greenlet running this socket's handlers, None while none is queued."""
        return self._inbox.worker if self._inbox is not None else None

    def _handler_failed(self, exc: Exception) -> None:
        log.exception("error in a handler of %r", self)
        self._report_error(exc)

    def _report_error(self, exc: Exception) -> None:
        for fn in self.listeners("error"):
            try:
                fn(exc)
            except Exception:
                log.exception("error in the error handler of %r", self)

    # -- packets from the client ---------------------------------------------------

    def _on_packet(self, packet: Packet, size: int = 0) -> None:
        """A packet for this socket; ``size``: the bytes it came in, counted against the
        inbox's budget while it waits for its handler."""
        ptype = packet.type
        if ptype is PacketType.EVENT:
            if packet.data[0] in RESERVED_EVENTS:
                # socket.io's parser refuses these from a client: they would run the
                # application's own handlers (``disconnect``...) with the client's arguments
                log.info("closing %s: the client sent the reserved event %r", self.id,
                         packet.data[0])
                self.client.conn.close(CloseReason.PARSE_ERROR, notify=False)
                return
            inbox = self._inbox
            client = self.client
            if inbox is not None and (len(inbox) >= client.max_queue
                                      or self._queued_bytes + size > client.max_buffered_bytes):
                log.warning("closing %s: %d events (%d bytes) wait for its handlers; the client "
                            "sends faster than they run (limits: max_queue=%d events, "
                            "%d bytes)", self.id, len(inbox), self._queued_bytes,
                            client.max_queue, client.max_buffered_bytes)
                client.conn.close(CloseReason.TRANSPORT_ERROR, notify=False)
                return
            self._queued_bytes += size
            self.schedule(self._run_event, packet.data, packet.id, size)
        elif ptype is PacketType.ACK:
            waiter = self.acks.resolve(packet.id)
            if waiter is not None:
                waiter(packet.data)
            else:
                log.debug("%r: ack %s for nothing", self, packet.id)
        elif ptype is PacketType.DISCONNECT:
            self._on_close("client namespace disconnect")


    def _run_event(self, data: List[Any], ack_id: Optional[int], size: int = 0) -> None:
        self._queued_bytes -= size
        if not self.connected:
            return
        if self._middlewares and not self._run_packet_middlewares(data):
            return
        event, args = data[0], data[1:]
        ack = None
        if ack_id is not None:
            ack = Ack(self, ack_id)
            args.append(ack)
        if self._any:
            for fn in self.any_listeners():
                fn(event, *args)
        result = None
        for fn in self.listeners(event):
            result = fn(*args)
        if ack is not None and result is not None and not ack.sent \
                and not isinstance(result, _CHAINABLE):
            try:
                ack._send(ack_values(result))
            except (TypeError, ValueError) as exc:
                log.error("the %r handler of %r returned %r as its ack, which cannot be sent "
                          "as JSON: %s", event, self, type(result).__name__, exc)

    def use(self, fn: Callable[[List[Any], Callable[..., None]], None]) -> "Socket":
        """Add a packet middleware ``fn(packet, next)``; ``next(err)`` drops the packet.

        ``packet`` is ``[event, *args]`` and may be changed in place.
        """
        if self._middlewares is None:
            self._middlewares = []
        self._middlewares.append(fn)
        return self

    def _run_packet_middlewares(self, data: List[Any]) -> bool:
        for fn in list(self._middlewares or ()):
            outcome: List[Any] = []
            try:
                fn(data, lambda err=None, o=outcome: o.append(err))
            except Exception as exc:
                outcome.append(exc)
            if not outcome:
                log.warning("%r: packet middleware %r returned without calling next()", self, fn)
                return False
            if outcome[0] is not None:
                err = outcome[0]
                self._report_error(err if isinstance(err, Exception) else Exception(str(err)))
                if self.client.protocol.revision == 4:  # socket.io 2 told the client too
                    message = getattr(err, "message", None) or str(err)
                    self.client.write(Packet(PacketType.CONNECT_ERROR, self.nsp.name, message))
                return False
        return True

    # -- sending -------------------------------------------------------------------------

    def emit(self, event: str, *args: Any, callback: Optional[Callable[..., Any]] = None) -> bool:
        """Send ``event`` with ``args`` to this client.

        :param callback: called as ``callback(*values)`` when the client acks
        :raises ReservedEventError: for reserved event names
        :returns: True
        """
        return self._emit(event, args, callback, False, None)

    def send(self, *args: Any, callback: Optional[Callable[..., Any]] = None) -> bool:
        """Send a ``message`` event."""
        return self._emit("message", args, callback, False, None)

    write = send

    def _emit(self, event: str, args: Iterable[Any], callback: Optional[Callable[..., Any]],
              volatile: bool, timeout: Optional[float], compress: bool = True) -> bool:
        check_event(event)
        if (callback is None and not volatile and self._early is None
                and self.nsp.server.recovery is not None):
            # as in socket.io: through the adapter to the socket's own room, so the packet
            # gets an offset and is kept for a recovery
            return BroadcastOperator(self.nsp.adapter,
                                     BroadcastOptions(rooms=frozenset([self.id]),
                                                      compress=compress),
                                     self.nsp.clock).emit(event, *args)
        ack_id = None if callback is None else self.nsp.next_ack_id()  # thread-safe counter
        messages = self._encode([event, *args], ack_id)  # in the caller: TypeError is its own
        if callback is None and self._early is None and runtime.in_hub_thread():
            self.client.write_messages(messages, volatile, compress)  # _send_event's case
            return True
        # from an OS thread, the rest (acks, queues) is handed to the server's thread
        runtime.run_in_hub(self._send_event, messages, ack_id, callback, volatile, timeout,
                           compress)
        return True

    def _send_event(self, messages: List[Any], ack_id: Optional[int],
                    callback: Optional[Callable[..., Any]], volatile: bool,
                    timeout: Optional[float], compress: bool = True) -> None:
        if callback is not None:
            if not self.connected and timeout is not None:
                self.schedule(callback, Disconnected("socket %s is not connected" % self.id))
                return
            assert ack_id is not None  # allocated with the callback, in _emit
            self.acks.register(ack_id, _CallbackWaiter(self, callback, ack_id, timeout))
        if self._early is not None and not self.connected:
            self._early.append((messages, compress))  # compress travels with them
        else:
            self.client.write_messages(messages, volatile, compress)

    def _encode(self, data: List[Any], ack_id: Optional[int]) -> List[Any]:
        """The messages of an EVENT packet; a value with no JSON form raises TypeError."""
        return encode(Packet(PacketType.EVENT, self.nsp.name, data, ack_id),
                      self.nsp.server.dumps).messages()

    def call(self, event: str, *args: Any, timeout: Optional[float] = 60.0) -> Any:
        """Emit ``event`` and block until the client acks; return what it answered.

        One value comes back as itself, several as a tuple, none as None.

        :param timeout: seconds to wait (None waits until the client answers or leaves)
        :raises AckTimeout: when the client does not answer in time
        :raises Disconnected: when the client is or becomes disconnected first
        """
        check_event(event)
        if not self.connected:
            raise Disconnected("socket %s is not connected" % self.id)
        waiter = _ResultWaiter()
        ack_id = self.nsp.next_ack_id()
        messages = self._encode([event, *args], ack_id)  # may raise TypeError: nothing waits
        self.acks.register(ack_id, waiter)
        self.client.write_messages(messages)
        try:
            return ack_result(waiter.result.get(timeout=timeout))
        except runtime.Timeout:
            self.acks.resolve(ack_id)
            raise AckTimeout("no ack for %r from %s within %ss" % (event, self.id, timeout)) \
                from None

    def register_ack(self, ack_id: int, on_ack: Callable[[Any], None]) -> None:
        """Wait for ack ``ack_id`` on behalf of a broadcast collector."""
        self.acks.register(ack_id, on_ack)

    def write_messages(self, messages: List[Any], volatile: bool = False,
                       compress: bool = True) -> None:
        """Send the encoded messages of one packet to this socket's client (the adapter's
        way to deliver a broadcast)."""
        self.client.write_messages(messages, volatile, compress)

    @property
    def volatile(self) -> SocketFlags:
        """Flagged view: the next emit is dropped if the transport is busy."""
        return SocketFlags(self, BroadcastOptions(volatile=True))

    def compress(self, value: bool = True) -> SocketFlags:
        """Flagged view: ``compress(False)`` sends the next packet uncompressed on the
        websocket (permessage-deflate, ``Server(per_message_deflate=...)``)."""
        return SocketFlags(self, BroadcastOptions(compress=value))

    def timeout(self, seconds: float) -> SocketFlags:
        """Flagged view whose ack callbacks get ``(err, *values)`` after ``seconds``."""
        return SocketFlags(self, BroadcastOptions(timeout=seconds))

    # -- broadcasting from this socket ----------------------------------------------------

    @property
    def broadcast(self) -> BroadcastOperator:
        """Everyone in the namespace but this socket."""
        return BroadcastOperator(self.nsp.adapter,
                                 BroadcastOptions(except_rooms=frozenset([self.id])),
                                 self.nsp.clock)

    def to(self, room: Union[str, Iterable[str]]) -> BroadcastOperator:
        """Everyone in ``room`` (or rooms) but this socket."""
        return self.broadcast.to(room)

    in_ = to

    def except_(self, room: Union[str, Iterable[str]]) -> BroadcastOperator:
        """Everyone but this socket and ``room``'s members."""
        return self.broadcast.except_(room)

    @property
    def local(self) -> BroadcastOperator:
        """Broadcast from this socket, on this node only."""
        return BroadcastOperator(self.nsp.adapter,
                                 BroadcastOptions(except_rooms=frozenset([self.id]), local=True),
                                 self.nsp.clock)

    # -- rooms --------------------------------------------------------------------------

    def join(self, rooms: Union[str, Iterable[str]],
             callback: Optional[Callable[..., Any]] = None) -> "Socket":
        """Join a room or several.

        :param callback: called with None once done (socket.io 2 style)
        """
        names = [rooms] if isinstance(rooms, str) else list(rooms)
        if self.connected or self._early is not None:  # connected, or being admitted
            self.nsp.adapter.add_all(self.id, names)
        if callback is not None:
            callback(None)
        return self

    def leave(self, room: str, callback: Optional[Callable[..., Any]] = None) -> "Socket":
        """Leave ``room``."""
        self.nsp.adapter.delete(self.id, room)
        if callback is not None:
            callback(None)
        return self

    def leave_all(self) -> None:
        """Leave every room, its own included."""
        self.nsp.adapter.delete_all(self.id)

    # -- connection lifecycle -----------------------------------------------------------

    def _resume(self, session: PersistedSession, offset: str) -> None:
        """Take the id, rooms and ``data`` of a dropped session (the packets it missed after
        ``offset`` are sent when the socket connects)."""
        self.id = session.sid
        self.pid = session.pid
        self.data = session.data
        self.recovered = True
        self._resumed = (session, offset)
        self.nsp.adapter.add_all(self.id, session.rooms)

    def _on_connect(self) -> None:
        self.connected = True
        adapter = self.nsp.adapter
        adapter.add_all(self.id, [self.id])
        self.nsp.connected[self.id] = self
        if self._resumed is not None:  # missed packets go before the CONNECT, as in socket.io
            session, offset = self._resumed
            self._resumed = None
            for data in adapter.missed_packets(offset, session.rooms):
                self.client.write(Packet(PacketType.EVENT, self.nsp.name, data))
        self.client.write(self.client.protocol.connect_reply(self.nsp.name, self.id, self.pid))
        if trace.socket:
            debug.socket_connected(self.client.conn.sid, self.nsp.name, self.id)
        self.client.joined()
        early, self._early = self._early, None
        for messages, compress in early or ():
            self.client.write_messages(messages, False, compress)

    def disconnect(self, close: bool = False) -> "Socket":
        """Disconnect from the namespace; with ``close``, close the whole connection."""
        if close:
            self.client.disconnect_all()
            return self
        if not self.connected:
            return self
        self.client.write(Packet(PacketType.DISCONNECT, self.nsp.name))
        self._on_close("server namespace disconnect")
        return self

    def _on_close(self, reason: str) -> None:
        if not self.connected:
            self.client.forget(self)
            return
        self.connected = False
        if trace.socket:
            debug.socket_disconnected(self.client.conn.sid, self.nsp.name, self.id, reason)
        for waiter in self.acks.drain():
            if hasattr(waiter, "fail"):
                waiter.fail(Disconnected("socket %s disconnected: %s" % (self.id, reason)))
        adapter = self.nsp.adapter
        self._closing_rooms = adapter.socket_rooms(self.id)
        if self.pid is not None and is_recoverable(reason):
            adapter.persist_session(PersistedSession(
                self.id, self.pid, tuple(sorted(self._closing_rooms)), self.data,
                self.nsp.clock.monotonic()))
        adapter.delete_all(self.id)
        self.nsp.connected.pop(self.id, None)
        self.client.forget(self)
        self.nsp._on_socket_closed(self, reason)
        self.schedule(self._emit_disconnect, reason)

    def _emit_disconnect(self, reason: str) -> None:
        try:
            for fn in self.listeners("disconnecting"):
                fn(reason)
        finally:
            self._closing_rooms = None
            for fn in self.listeners("disconnect"):
                fn(reason)


#: results of chainable API calls (``socket.join(...)`` returns the socket): never acks
_CHAINABLE = (Socket, SocketFlags, BroadcastOperator)
