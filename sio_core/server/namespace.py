"""Namespace: a channel of sockets with its own handlers, middlewares and rooms."""
from __future__ import annotations

import itertools
import logging
import secrets
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Union

from .. import runtime
from ..adapter.base import Adapter, BroadcastOptions
from ..errors import ConnectionRefusedError
from ..socketio import RecoveryOptions, recovery_request
from .broadcast import BroadcastOperator
from .clock import Clock
from .emitter import Listeners

if TYPE_CHECKING:  # pragma: no cover
    from .core import ServerCore
    from .socket import Socket

__all__ = ["Namespace", "ParentNamespace"]

log = logging.getLogger(__name__)

Middleware = Callable[["Socket", Callable[..., None]], Any]


class Namespace(Listeners):
    """A namespace such as ``/`` or ``/chat``.

    Events: ``connection`` (alias ``connect``) with the new socket.

    :param server: the owning server
    :param name: the namespace name, starting with ``/``
    """

    __slots__ = ("server", "name", "connected", "adapter", "_middlewares", "_ack_ids",
                 "parent")

    aliases = {"connect": "connection"}

    def __init__(self, server: "ServerCore", name: str,
                 parent: Optional["ParentNamespace"] = None) -> None:
        super().__init__()
        self.server = server
        #: the name, e.g. ``/chat``
        self.name = name
        #: connected sockets by id
        self.connected: Dict[str, "Socket"] = {}
        #: ack ids are unique per namespace, so a broadcast can share one
        self._ack_ids = itertools.count()
        self._middlewares: List[Middleware] = []
        #: the dynamic namespace this one was created from, if any
        self.parent = parent
        if parent is not None:
            self._listeners = parent._listeners_ref()
            self._middlewares = parent._middlewares
        #: room bookkeeping and broadcast
        self.adapter = self._create_adapter()
        self.adapter.init()

    def __repr__(self) -> str:
        return "<Namespace %s>" % self.name

    def _create_adapter(self) -> Any:
        return self.server._make_adapter(self)

    @property
    def sockets(self) -> Dict[str, "Socket"]:
        """Connected sockets by id (socket.io 4's ``nsp.sockets``)."""
        return self.connected

    @property
    def recovery(self) -> Optional[RecoveryOptions]:
        """The server's connection state recovery options (None: off)."""
        return self.server.recovery

    @property
    def clock(self) -> Clock:
        """The server's clock (ack deadlines of broadcasts from this namespace)."""
        return self.server.engine.clock

    def next_ack_id(self) -> int:
        """A fresh ack id."""
        return next(self._ack_ids)

    def dumps(self, value: Any) -> str:
        """The server's JSON encoder (the adapter encodes broadcasts with it)."""
        return self.server.dumps(value)

    # -- middlewares and the connect flow ------------------------------------------------

    def use(self, fn: Middleware) -> Middleware:
        """Add a connect middleware ``fn(socket, next)`` (usable as a decorator).

        Call ``next()`` to admit, ``next(err)`` to refuse with ``str(err)`` (and
        ``err.data`` for protocol 5 clients); raising refuses too.
        """
        self._middlewares.append(fn)
        return fn

    def _run_middlewares(self, socket: "Socket") -> Optional[Exception]:
        for fn in list(self._middlewares):
            result = runtime.AsyncResult()
            try:
                fn(socket, lambda err=None, r=result: r.set(err) if not r.ready() else None)
            except Exception as exc:
                return exc
            try:
                err = result.get(timeout=self.server.connect_timeout)
            except runtime.Timeout:
                return ConnectionRefusedError("middleware did not call next() in time")
            if err is not None:
                return err if isinstance(err, Exception) else ConnectionRefusedError(str(err))
        return None

    def _connect(self, socket: "Socket") -> None:
        """Run middlewares and admit or refuse ``socket`` (runs in its handler queue)."""
        client = socket.client
        if client.conn.closed:
            client.forget(socket)
            return
        recovery = self.recovery
        if recovery is not None:
            self._restore(socket)
        skip = socket.recovered and recovery is not None and recovery.skip_middlewares
        err = None if skip else self._run_middlewares(socket)
        if err is not None:
            message = getattr(err, "message", None) or str(err) or "Connection refused"
            log.info("%s refused on %s: %s", socket.id, self.name, message)
            client.forget(socket)
            socket._early = None
            self.adapter.delete_all(socket.id)  # rooms joined by the refusing middlewares
            client.write(client.protocol.refusal(self.name, message, getattr(err, "data", None)))
            return
        socket._on_connect()
        for fn in self.listeners("connection"):
            fn(socket)

    def _restore(self, socket: "Socket") -> None:
        """Give ``socket`` its dropped session back when its CONNECT asks for one that is
        still kept; otherwise a new private session id."""
        asked = recovery_request(socket.handshake.auth) if socket.protocol >= 5 else None
        session = self.adapter.restore_session(*asked) if asked is not None else None
        if session is None:
            socket.pid = secrets.token_urlsafe(15)
            return
        log.info("%s recovered on %s", session.sid, self.name)
        socket._resume(session, asked[1])  # type: ignore[index]

    def _on_socket_closed(self, socket: "Socket", reason: str) -> None:
        """Hook for subclasses; the socket has left its rooms."""

    # -- broadcasting -------------------------------------------------------------------

    def _operator(self) -> BroadcastOperator:
        return BroadcastOperator(self.adapter, clock=self.clock)

    def to(self, room: Union[str, List[str]]) -> BroadcastOperator:
        """Target room(s); chain for a union."""
        return self._operator().to(room)

    in_ = to

    def except_(self, room: Union[str, List[str]]) -> BroadcastOperator:
        """Exclude room(s)."""
        return self._operator().except_(room)

    @property
    def volatile(self) -> BroadcastOperator:
        """Broadcast that drops packets for busy clients."""
        return self._operator().volatile

    @property
    def local(self) -> BroadcastOperator:
        """Broadcast on this node only."""
        return BroadcastOperator(self.adapter, BroadcastOptions(local=True), self.clock)

    def compress(self, value: bool = True) -> BroadcastOperator:
        """Broadcast with a compression wish."""
        return self._operator().compress(value)

    def timeout(self, seconds: float) -> BroadcastOperator:
        """Broadcast collecting acks for at most ``seconds``."""
        return self._operator().timeout(seconds)

    def emit(self, event: str, *args: Any, callback: Optional[Callable[..., Any]] = None) -> bool:
        """Send ``event`` to every socket of the namespace."""
        return self._operator().emit(event, *args, callback=callback)

    def send(self, *args: Any) -> bool:
        """Send a ``message`` event to every socket."""
        return self._operator().send(*args)

    write = send

    def clients(self, callback: Optional[Callable[..., None]] = None) -> List[str]:
        """Ids of every connected socket; with ``callback(err, ids)`` as in socket.io 2."""
        return self._operator().clients(callback)

    def all_sockets(self) -> set:
        """Ids of every socket (across nodes with a multi-node adapter)."""
        return self._operator().all_sockets()

    def fetch_sockets(self) -> List[Any]:
        """Every socket of the namespace."""
        return self._operator().fetch_sockets()

    def sockets_join(self, rooms: Union[str, List[str]]) -> None:
        """Make every socket join ``rooms``."""
        self._operator().sockets_join(rooms)

    def sockets_leave(self, rooms: Union[str, List[str]]) -> None:
        """Make every socket leave ``rooms``."""
        self._operator().sockets_leave(rooms)

    def disconnect_sockets(self, close: bool = False) -> None:
        """Disconnect every socket."""
        self._operator().disconnect_sockets(close)

    def _listeners_ref(self) -> Dict[str, Any]:
        if self._listeners is None:
            self._listeners = {}
        return self._listeners


class ParentNamespace(Namespace):
    """A dynamic namespace: a matcher creating child namespaces on demand.

    Handlers and middlewares registered on the parent apply to every child;
    ``emit`` on the parent reaches every child.

    :param matcher: ``fn(name, auth) -> bool`` deciding whether ``name`` exists
    """

    __slots__ = ("matcher", "children")

    def __init__(self, server: "ServerCore", matcher: Callable[[str, Any], bool]) -> None:
        self.matcher = matcher
        self.children: Dict[str, Namespace] = {}
        super().__init__(server, "/_%d" % id(self))
        self._listeners_ref()

    def _create_adapter(self) -> Any:
        return _ChildrenAdapter(self)

    def child(self, name: str) -> Namespace:
        """The child namespace ``name``, created on first use."""
        nsp = self.children.get(name)
        if nsp is None:
            nsp = self.children[name] = Namespace(self.server, name, parent=self)
            self.server._namespace_created(nsp)
        return nsp



class _ChildrenAdapter(Adapter):
    """The adapter of a ParentNamespace: every operation goes to each child's adapter."""

    def __init__(self, nsp: "ParentNamespace") -> None:
        super().__init__(nsp)
        self.parent = nsp

    def _children(self) -> List[Namespace]:
        return list(self.parent.children.values())

    def broadcast(self, packet: Any, opts: BroadcastOptions) -> None:
        for child in self._children():
            child.adapter.broadcast(packet._replace(namespace=child.name), opts)

    def broadcast_with_ack(self, packet: Any, opts: BroadcastOptions,
                           on_count: Callable[[int], None], on_ack: Callable[[Any], None]) -> None:
        on_count(sum(child.adapter.broadcast_with_ack_local(
            packet._replace(namespace=child.name), opts, on_ack) for child in self._children()))

    def all_sockets(self, opts: BroadcastOptions) -> set:
        found: set = set()
        for child in self._children():
            found |= child.adapter.all_sockets(opts)
        return found

    def fetch_sockets(self, opts: BroadcastOptions) -> List[Any]:
        return [s for child in self._children() for s in child.adapter.fetch_sockets(opts)]

    def add_sockets(self, opts: BroadcastOptions, rooms: Any) -> None:
        for child in self._children():
            child.adapter.add_sockets(opts, rooms)

    def del_sockets(self, opts: BroadcastOptions, rooms: Any) -> None:
        for child in self._children():
            child.adapter.del_sockets(opts, rooms)

    def disconnect_sockets(self, opts: BroadcastOptions, close: bool = False) -> None:
        for child in self._children():
            child.adapter.disconnect_sockets(opts, close)
