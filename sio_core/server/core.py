"""ServerCore: namespaces, clients and the node-like API, without any HTTP.

``sio_core.Server`` (in ``sio_core/app.py``) adds the WSGI and listening side.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List, Optional, Pattern, Union

from ..adapter import Adapter, MemoryAdapter
from ..engineio import CloseReason
from ..socketio import RecoveryOptions
from .broadcast import BroadcastOperator
from .client import Client
from .engine import Connection, EngineHandler, EngineServer
from .jsonlib import json_functions
from .matchers import matcher_for
from .namespace import Namespace, ParentNamespace

__all__ = ["ServerCore"]

log = logging.getLogger(__name__)

NamespaceSpec = Union[str, Pattern[str], Callable[..., Any]]
#: an adapter class or factory ``fn(nsp)``, or a template adapter (built without namespace)
AdapterSpec = Union[Adapter, Callable[[Namespace], Adapter]]


class ServerCore(EngineHandler):
    """Socket.IO on top of an ``EngineServer``.

    :param engine: the Engine.IO server to serve on
    :param adapter: adapter class, factory ``fn(nsp) -> Adapter``, or a template adapter
        built without a namespace (``RedisAdapter(url=...)``), copied for each namespace
    :param json: a module/object with ``dumps``/``loads`` (default: orjson if installed)
    :param connect_timeout: seconds a client may stay connected to no namespace
    :param connection_state_recovery: off (None/False), on with the defaults (True), or a
        dict of ``RecoveryOptions`` keywords (``max_disconnection_duration`` seconds,
        ``skip_middlewares``, ``max_packets``): a client that drops and reconnects within
        the window gets back its socket id, rooms, ``data`` and the packets it missed
    """

    def __init__(self, engine: EngineServer,
                 adapter: AdapterSpec = MemoryAdapter,
                 json: Any = None, connect_timeout: float = 45.0,
                 connection_state_recovery: Any = None) -> None:
        self.dumps, self.loads = json_functions(json)
        self.connect_timeout = connect_timeout
        #: connection state recovery options (None: off)
        self.recovery = RecoveryOptions.from_option(connection_state_recovery)
        self._adapter_factory = adapter
        #: static namespaces by name
        self.nsps: Dict[str, Namespace] = {}
        self._parents: List[ParentNamespace] = []
        self._namespace_observers: List[Callable[[Namespace], None]] = []
        #: the Admin UI's ``sio_core.admin.Instrumentation`` (``Server.instrument``), or None
        self._instrumentation: Any = None
        self.engine = engine
        engine.handler = self
        #: the main namespace ``/``
        self.sockets = self.of("/")

    #: the class of the ``Client`` made for each Engine.IO connection (the Admin UI's
    #: ``instrument()`` puts a counting subclass here)
    client_class = Client

    #: ``fn(environ) -> request``: what ``Socket.request`` and ``Client.request`` return,
    #: set by the serving edge (``sio_core.Server`` makes werkzeug ``Request`` objects);
    #: None on a bare ``ServerCore``
    request_factory: Optional[Callable[[Dict[str, Any]], Any]] = None

    #: how many times ``max_http_buffer_size`` may be held for one client's input
    BUFFERED_BYTES_FACTOR = 10

    @property
    def max_buffered_bytes(self) -> int:
        """Most bytes the binary attachments of one incoming packet may hold together, and
        the events waiting for one socket's handlers.

        Each message is at most ``max_http_buffer_size``; up to 1000 attachments, or
        ``max_queue`` events waiting behind a blocked handler, could otherwise hold
        gigabytes for a single client.
        """
        return self.BUFFERED_BYTES_FACTOR * self.engine.options.max_http_buffer_size

    # -- adapter and namespaces -----------------------------------------------------------

    def _make_adapter(self, nsp: Namespace) -> Adapter:
        spec = self._adapter_factory
        if isinstance(spec, Adapter):
            return spec.for_namespace(nsp)
        return spec(nsp)

    def adapter(self, factory: Optional[AdapterSpec] = None) -> Any:
        """Get the adapter spec, or set it (applies to namespaces created afterwards).

        :param factory: adapter class, factory ``fn(nsp)`` or template adapter
        """
        if factory is None:
            return self._adapter_factory
        self._adapter_factory = factory
        return self

    def of(self, name: NamespaceSpec, fn: Optional[Callable[..., Any]] = None) -> Namespace:
        """The namespace ``name``, created if needed.

        ``name`` may also be a compiled regex, a callable ``fn(name, auth) -> bool``, or
        socket.io 4's ``fn(name, auth, next)`` calling ``next(err, allowed)`` before it
        returns; matching names become child namespaces created on first connection.

        :param fn: optional ``connection`` handler to add
        """
        if isinstance(name, str):
            if not name.startswith("/"):
                name = "/" + name
            nsp = self.nsps.get(name)
            if nsp is None:
                nsp = self.nsps[name] = Namespace(self, name)
                self._namespace_created(nsp)
        else:
            nsp = ParentNamespace(self, matcher_for(name))
            self._parents.append(nsp)
            self._namespace_created(nsp)
        if fn is not None:
            nsp.on("connection", fn)
        return nsp

    def on_new_namespace(self, fn: Callable[[Namespace], None]) -> Callable[[Namespace], None]:
        """Call ``fn(nsp)`` for each namespace created from now on (socket.io's
        ``new_namespace``), dynamic ones and their children included (decorator)."""
        self._namespace_observers.append(fn)
        return fn

    def _namespace_created(self, nsp: Namespace) -> None:
        for fn in list(self._namespace_observers):
            fn(nsp)

    def _namespace_for(self, name: str, auth: Any) -> Optional[Namespace]:
        nsp = self.nsps.get(name)
        if nsp is not None:
            return nsp
        for parent in self._parents:
            if name in parent.children:
                return parent.children[name]
            try:
                if parent.matcher(name, auth):
                    return parent.child(name)
            except Exception:
                log.exception("namespace matcher failed for %s", name)
        return None

    # -- forwarded to "/" -------------------------------------------------------------

    def on(self, event: str, fn: Optional[Callable[..., Any]] = None) -> Any:
        """Listen on ``/`` (``connection``/``connect``); usable as a decorator."""
        return self.sockets.on(event, fn)

    def on_connection(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Add a ``connection`` handler on ``/`` (decorator)."""
        self.sockets.on("connection", fn)
        return fn

    def use(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Add a connect middleware on ``/``."""
        return self.sockets.use(fn)

    def to(self, room: Union[str, List[str]]) -> BroadcastOperator:
        """Target room(s) of ``/``."""
        return self.sockets.to(room)

    in_ = to

    def except_(self, room: Union[str, List[str]]) -> BroadcastOperator:
        """Exclude room(s) of ``/``."""
        return self.sockets.except_(room)

    def emit(self, event: str, *args: Any, callback: Optional[Callable[..., Any]] = None) -> bool:
        """Send ``event`` to every socket of ``/``."""
        return self.sockets.emit(event, *args, callback=callback)

    def send(self, *args: Any) -> bool:
        """Send a ``message`` to every socket of ``/``."""
        return self.sockets.send(*args)

    write = send

    @property
    def volatile(self) -> BroadcastOperator:
        """Volatile broadcast on ``/``."""
        return self.sockets.volatile

    @property
    def local(self) -> BroadcastOperator:
        """Node-local broadcast on ``/``."""
        return self.sockets.local

    def compress(self, value: bool = True) -> BroadcastOperator:
        """Broadcast on ``/`` with a compression wish."""
        return self.sockets.compress(value)

    def timeout(self, seconds: float) -> BroadcastOperator:
        """Broadcast on ``/`` collecting acks."""
        return self.sockets.timeout(seconds)

    def fetch_sockets(self) -> List[Any]:
        """Every socket of ``/``."""
        return self.sockets.fetch_sockets()

    def sockets_join(self, rooms: Union[str, List[str]]) -> None:
        """Make every socket of ``/`` join ``rooms``."""
        self.sockets.sockets_join(rooms)

    def sockets_leave(self, rooms: Union[str, List[str]]) -> None:
        """Make every socket of ``/`` leave ``rooms``."""
        self.sockets.sockets_leave(rooms)

    def disconnect_sockets(self, close: bool = False) -> None:
        """Disconnect every socket of ``/``."""
        self.sockets.disconnect_sockets(close)

    # -- engine hooks ---------------------------------------------------------------------

    def bind(self, engine: EngineServer) -> "ServerCore":
        """Serve on another Engine.IO server."""
        self.engine = engine
        engine.handler = self
        return self

    def on_connect(self, conn: Connection) -> None:
        client = conn.owner = self.client_class(self, conn)
        conn.receiver = client.on_message  # on_message below, without the hop

    def on_message(self, conn: Connection, data: Any) -> None:
        conn.owner.on_message(data)

    def on_close(self, conn: Connection, reason: CloseReason) -> None:
        client = conn.owner
        if client is not None:
            client.on_close(reason.value)

    # -- shutdown -------------------------------------------------------------------------

    def _all_namespaces(self) -> List[Namespace]:
        found = list(self.nsps.values())
        for parent in self._parents:
            found.extend(parent.children.values())
        return found

    def close_sockets(self) -> None:
        """Disconnect every socket with ``server shutting down`` and close every session."""
        if self._instrumentation is not None:
            self._instrumentation.close()
        for nsp in self._all_namespaces():
            for socket in list(nsp.connected.values()):
                socket._on_close(CloseReason.SERVER_SHUTTING_DOWN.value)
        self.engine.close(CloseReason.SERVER_SHUTTING_DOWN)
        for nsp in self._all_namespaces():
            nsp.adapter.close()
