"""The Admin UI: the server side that the ``@socket.io/admin-ui`` dashboard talks to.

``server.instrument(auth=False)`` opens a namespace (``/admin`` by default) where the
dashboard finds:

- ``config`` with the features this server offers, when it connects;
- ``server_stats`` from every node every ``stats_interval`` seconds (server id, host name,
  pid, uptime, client counts, each namespace with its socket count, and the node's
  ``aggregatedEvents`` since the last ones: Engine.IO connections and disconnections,
  messages and bytes in and out, per second);
- in development mode, ``all_sockets`` when it connects, then ``socket_connected``,
  ``socket_disconnected``, ``socket_updated``, ``room_joined``, ``room_left``,
  ``event_received`` and ``event_sent`` as they happen;
- the actions it sends (unless ``read_only``): ``emit``, ``join``, ``leave`` and
  ``_disconnect`` on the sockets of a namespace, optionally only those in a room.

Everything goes through the namespaces' adapters, so with a multi-node adapter
(``RedisAdapter``) the dashboard sees the stats of every node and its actions apply to
the sockets of every node.

While instrumented, the server makes its connections' ``Client`` objects of a subclass
that counts what passes (``ServerCore.client_class``): a server that is not instrumented
runs no counting code at all.

Authentication is ``auth=False`` or ``{"type": "basic", "username": ...,
"password": <bcrypt hash>}`` (the hash the Node server takes, ``$2a$``/``$2b$``); it needs
the ``bcrypt`` package (the ``admin`` extra).
"""
from __future__ import annotations

import datetime
import logging
import os
import platform
import secrets
import time
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    List,
    Optional,
    Set,
    Tuple,
    Type,
    Union,
)

from . import runtime
from .adapter import Adapter, MemoryAdapter
from .errors import ConnectionRefusedError
from .server.client import Client
from .server.namespace import Namespace, ParentNamespace
from .server.socket import Ack, Socket
from .socketio import Decoder, Packet, PacketType, ProtocolError

if TYPE_CHECKING:  # pragma: no cover
    from .server.core import ServerCore
    from .server.engine import Connection

__all__ = ["Instrumentation", "instrument"]

log = logging.getLogger(__name__)

#: what ``auth`` may be: False, or ``{"type": "basic", "username": ..., "password": ...}``
AuthOption = Union[bool, Dict[str, str]]

#: the dashboard's names for what the server lets it do
ACTION_FEATURES = ["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT"]

#: the aggregated events counted in attributes of ``Instrumentation`` (by the type's name)
_COUNTERS = (("packetsIn", "packets_in"), ("bytesIn", "bytes_in"),
             ("packetsOut", "packets_out"), ("bytesOut", "bytes_out"))

#: the first character of the EVENT and BINARY_EVENT packets (the ones ``event_sent`` reports)
_EVENT_HEADS = (str(int(PacketType.EVENT)), str(int(PacketType.BINARY_EVENT)))


def _timestamp() -> str:
    """Now, as JavaScript's ``Date`` serialises itself (ISO 8601 in UTC, milliseconds)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)


def _check_auth(auth: AuthOption) -> Optional[Dict[str, str]]:
    """The basic-auth settings, or None when authentication is off; raises on bad ones."""
    if auth is False:
        log.warning("the Admin UI namespace accepts anyone (auth=False)")
        return None
    if not isinstance(auth, dict) or auth.get("type") != "basic":
        raise ValueError("auth must be False or {'type': 'basic', 'username': ..., "
                         "'password': <bcrypt hash>}")
    password = auth.get("password")
    if not isinstance(password, str) or not password.startswith(("$2a$", "$2b$", "$2y$")):
        raise ValueError("the password of the Admin UI's basic auth must be a bcrypt hash")
    try:
        import bcrypt  # noqa: F401  (checked here, used at login)
    except ImportError:
        raise RuntimeError("basic auth for the Admin UI needs the bcrypt package "
                           "(pip install flask-sio[admin])") from None
    return {"username": str(auth.get("username", "")), "password": password}


def _public_data(data: Any) -> Any:
    """A socket's ``data`` without the Admin UI's own ``_admin`` entry."""
    if isinstance(data, dict):
        return {k: v for k, v in data.items() if k != "_admin"}
    return data


def _size(message: Any) -> int:
    """The bytes of an Engine.IO message (text counts as UTF-8, as Node's ``byteLength``)."""
    if isinstance(message, str) and not message.isascii():
        return len(message.encode("utf-8", "surrogatepass"))
    return len(message)


class _WatchedData(dict):  # type: ignore[type-arg]
    """A socket's ``data`` in development mode: each change of its entries (set, delete,
    ``update``...) calls ``changed(nsp, sid, self)``, whence ``socket_updated``. Values
    changed inside an entry are not seen (set the entry again). Copies and pickles are
    plain dicts."""

    __slots__ = ("_changed", "_nsp", "_sid")

    def __init__(self, content: Any, changed: Callable[[str, str, Dict[str, Any]], None],
                 nsp: str, sid: str) -> None:
        super().__init__(content)
        self._changed, self._nsp, self._sid = changed, nsp, sid

    def _tell(self) -> None:
        self._changed(self._nsp, self._sid, self)

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        self._tell()

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self._tell()

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self._tell()

    def __ior__(self, other: Any) -> "_WatchedData":  # type: ignore[misc]
        self.update(other)
        return self

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key in self:
            return self[key]
        self[key] = default
        return default

    def pop(self, key: Any, *default: Any) -> Any:
        present = key in self
        value = super().pop(key, *default)
        if present:
            self._tell()
        return value

    def popitem(self) -> Tuple[Any, Any]:
        item = super().popitem()
        self._tell()
        return item

    def clear(self) -> None:
        super().clear()
        self._tell()

    def __reduce__(self) -> Any:
        return dict, (dict(self),)


def _counting_client(feed: "Instrumentation") -> Type[Client]:
    """The ``Client`` subclass an instrumented server makes: it counts the connection and
    its messages for ``feed`` (and, in development mode, hands it what it sends)."""

    class CountingClient(Client):
        __slots__ = ()  # the layout of Client: a connected client's class can be swapped

        def __init__(self, server: "ServerCore", conn: "Connection") -> None:
            super().__init__(server, conn)
            feed._raw_connection(self, conn)

        def on_message(self, data: Any) -> None:
            feed.packets_in += 1
            feed.bytes_in += _size(data)
            Client.on_message(self, data)

        def write_messages(self, messages: List[Any], volatile: bool = False,
                           compress: bool = True) -> None:
            if volatile and not self.conn.session.writable():
                return  # dropped: not counted
            feed.packets_out += len(messages)
            feed.bytes_out += sum(map(_size, messages))
            if feed.development:
                feed._report_sent(self, messages)
            Client.write_messages(self, messages, False, compress)

        def on_close(self, reason: str) -> None:
            feed._count("rawDisconnection", reason)
            Client.on_close(self, reason)

    return CountingClient


class Instrumentation:
    """The Admin UI namespace of one server; made by ``instrument()``.

    :param server: the server to watch
    :param auth: False, or basic auth with a bcrypt hash
    :param mode: ``"development"`` (sockets, rooms and events in detail) or
        ``"production"`` (stats and actions only)
    :param read_only: refuse the dashboard's actions
    :param namespace: the namespace the dashboard connects to
    :param server_id: this node's name in the dashboard (default: the host name and pid)
    :param stats_interval: seconds between two ``server_stats``
    """

    def __init__(self, server: "ServerCore", auth: AuthOption,
                 mode: str = "development", read_only: bool = False,
                 namespace: str = "/admin", server_id: Optional[str] = None,
                 stats_interval: float = 2.0) -> None:
        if mode not in ("development", "production"):
            raise ValueError("mode must be 'development' or 'production'")
        self.server = server
        self.development = mode == "development"
        self.read_only = read_only
        self.stats_interval = stats_interval
        self._basic = _check_auth(auth)
        self._sessions: Set[str] = set()
        self._started = time.monotonic()
        self._stats_timer: Optional[runtime.TimerHandle] = None
        self._closed = False
        # emissions leave in the order their causes happened, from a greenlet (a hook may
        # run where blocking on a multi-node adapter's broker is not allowed)
        self._outbox = runtime.SerialQueue(self._emit_failed)
        self.features: List[str] = [] if read_only else list(ACTION_FEATURES)
        self.features.append("AGGREGATED_EVENTS")
        if self.development:
            self.features.append("ALL_EVENTS")
        hostname = platform.node()
        self._base_stats = {"serverId": server_id or "%s#%d" % (hostname, os.getpid()),
                            "hostname": hostname, "pid": os.getpid()}
        #: Engine.IO messages and their bytes, in and out, since the last ``server_stats``
        self.packets_in = self.bytes_in = self.packets_out = self.bytes_out = 0
        # (second in ms, type, subType) -> count: the aggregated events not sent yet
        self._buckets: Dict[Tuple[int, str, Optional[str]], int] = {}
        self._last_sent: Optional[Tuple[List[Any], Optional[Packet]]] = None
        self.nsp = server.of(namespace)
        # with a one-process adapter, live events are not even made while no dashboard is
        # connected here (a multi-node adapter may have dashboards on other nodes)
        self._single_node = type(self.nsp.adapter) in (Adapter, MemoryAdapter)
        self._own_prefix = _EVENT_HEADS[0] + self.nsp.name + ","
        self._client_class = _counting_client(self)
        server.client_class = self._client_class
        for conn in list(server.engine.sessions.values()):  # connected before: counted too
            if type(conn.owner) is Client:
                conn.owner.__class__ = self._client_class
        if self._basic is not None:
            self.nsp.use(self._authenticate)
        self.nsp.on("connection", self._on_admin)
        if self.development:
            for nsp in server._all_namespaces():
                self._watch(nsp)
            for parent in server._parents:
                self._watch(parent)
            server.on_new_namespace(self._watch)
            server.engine.on_upgraded = self._upgraded
        self._schedule_stats(0)

    # -- authentication --------------------------------------------------------------------

    def _authenticate(self, socket: Socket, next_: Callable[..., None]) -> None:
        auth = socket.handshake.auth if isinstance(socket.handshake.auth, dict) else {}
        session_id = auth.get("sessionId")
        if isinstance(session_id, str) and session_id in self._sessions:
            next_()
            return
        import bcrypt
        basic = self._basic
        assert basic is not None
        password = auth.get("password")
        if auth.get("username") == basic["username"] and isinstance(password, str) and \
                bcrypt.checkpw(password.encode(), basic["password"].encode()):
            session_id = secrets.token_hex(8)
            self._sessions.add(session_id)
            socket.emit("session", session_id)
            next_()
            return
        log.info("Admin UI login refused for %s", socket.handshake.address)
        next_(ConnectionRefusedError("invalid credentials"))

    # -- the dashboard's connection and actions ---------------------------------------------

    def _on_admin(self, socket: Socket) -> None:
        if not self.read_only:
            socket.on("emit", self._action_emit)
            socket.on("join", self._action_join)
            socket.on("leave", self._action_leave)
            socket.on("_disconnect", self._action_disconnect)
        socket.emit("config", {"supportedFeatures": self.features})
        if self.development:
            socket.emit("all_sockets", self.all_sockets())

    def _target(self, name: Any, room: Any) -> Any:
        """The namespace ``name`` (or the sockets of it in ``room``), or None if unknown."""
        for nsp in self.server._all_namespaces():
            if nsp.name == name and not isinstance(nsp, ParentNamespace):
                return nsp.to(room) if isinstance(room, str) and room else nsp
        log.info("Admin UI action on the unknown namespace %r", name)
        return None

    def _action_emit(self, nsp: Any, room: Any, event: Any, *args: Any) -> None:
        target = self._target(nsp, room)
        if target is not None and isinstance(event, str):
            target.emit(event, *[a for a in args if not isinstance(a, Ack)])

    def _action_join(self, nsp: Any, room: Any, within: Any = None, *_: Any) -> None:
        target = self._target(nsp, within)
        if target is not None and isinstance(room, str):
            target.sockets_join(room)

    def _action_leave(self, nsp: Any, room: Any, within: Any = None, *_: Any) -> None:
        target = self._target(nsp, within)
        if target is not None and isinstance(room, str):
            target.sockets_leave(room)

    def _action_disconnect(self, nsp: Any, close: Any = False, within: Any = None,
                           *_: Any) -> None:
        target = self._target(nsp, within)
        if target is not None:
            target.disconnect_sockets(bool(close))

    # -- what the dashboard is sent ----------------------------------------------------------

    def _heard(self) -> bool:
        """Whether a dashboard may hear what is sent now."""
        return not self._closed and (bool(self.nsp.connected) or not self._single_node)

    def _send(self, event: str, *args: Any) -> None:
        if self._heard():  # (the queue is the hub's: from an OS thread, handed over)
            runtime.run_in_hub(self._outbox.schedule, self.nsp.emit, event, *args)

    def _emit_failed(self, exc: Exception) -> None:
        log.exception("could not send to the Admin UI: %s", exc)

    def serialize(self, socket: Any, nsp_name: str) -> Dict[str, Any]:
        """A socket as the dashboard lists it (a local ``Socket`` or a remote one)."""
        data = getattr(socket, "data", None) or {}
        admin = data.get("_admin", {}) if isinstance(data, dict) else {}
        handshake = getattr(socket, "handshake", None)
        if handshake is not None:
            headers = dict(handshake.headers)
            address = headers.get("cf-connecting-ip") or headers.get("x-forwarded-for") \
                or handshake.address
            shake = {"address": address, "headers": headers, "query": dict(handshake.query),
                     "issued": handshake.issued, "secure": handshake.secure,
                     "time": handshake.time, "url": handshake.url,
                     "xdomain": handshake.xdomain}
        else:  # a socket of another node: what travelled in its data
            shake = admin.get("handshake", {})
        client_id, transport = admin.get("clientId"), admin.get("transport")
        conn = getattr(socket, "conn", None)
        if conn is not None:
            client_id, transport = conn.sid[:12], conn.transport
        return {"id": socket.id, "clientId": client_id, "transport": transport,
                "nsp": nsp_name, "data": _public_data(data), "handshake": shake,
                "rooms": sorted(socket.rooms)}

    def all_sockets(self) -> List[Dict[str, Any]]:
        """Every socket of every namespace, across nodes."""
        found = []
        for nsp in self.server._all_namespaces():
            if isinstance(nsp, ParentNamespace):
                continue
            for socket in nsp.fetch_sockets():
                found.append(self.serialize(socket, nsp.name))
        return found

    def stats(self) -> Dict[str, Any]:
        """This node's ``server_stats`` (taking the aggregated events counted since the last
        call: see ``take_aggregated_events``)."""
        engine = self.server.engine
        sessions = list(engine.sessions.values())
        namespaces = [{"name": nsp.name, "socketsCount": len(nsp.connected)}
                      for nsp in self.server._all_namespaces()
                      if not isinstance(nsp, ParentNamespace)]
        return dict(self._base_stats, uptime=time.monotonic() - self._started,
                    clientsCount=len(sessions),
                    pollingClientsCount=sum(1 for c in sessions if c.transport == "polling"),
                    aggregatedEvents=self.take_aggregated_events(), namespaces=namespaces)

    # -- aggregated events (the dashboard's charts) -----------------------------------------

    def _count(self, kind: str, sub_type: Optional[str] = None, n: int = 1) -> None:
        """Add ``n`` to this second's count of ``kind`` (and ``sub_type``)."""
        key = (int(time.time()) * 1000, kind, sub_type)
        self._buckets[key] = self._buckets.get(key, 0) + n

    def _raw_connection(self, client: Client, conn: "Connection") -> None:
        """An Engine.IO connection opened (its ``Client`` was just made)."""
        self._count("rawConnection")

    def take_aggregated_events(self) -> List[Dict[str, Any]]:
        """The counts since the last call, as admin-ui's ``aggregatedEvents``: one
        ``{timestamp, type, subType, count}`` per second and kind (``rawConnection``,
        ``rawDisconnection`` by reason, ``packetsIn``, ``bytesIn``, ``packetsOut``,
        ``bytesOut``); messages and bytes are stamped with the second they are taken in."""
        for kind, attr in _COUNTERS:
            value = getattr(self, attr)
            if value:
                setattr(self, attr, 0)
                self._count(kind, None, value)
        buckets, self._buckets = self._buckets, {}
        events = []
        for (timestamp, kind, sub_type), n in buckets.items():
            event: Dict[str, Any] = {"timestamp": timestamp, "type": kind, "count": n}
            if sub_type is not None:
                event["subType"] = sub_type
            events.append(event)
        return events

    def _schedule_stats(self, delay: float) -> None:
        if not self._closed:
            self._stats_timer = runtime.call_later(delay, self._stats_due)

    def _stats_due(self) -> None:
        self._stats_timer = None
        if self._closed:
            return
        self._outbox.schedule(self._emit_stats)
        self._schedule_stats(self.stats_interval)

    def _emit_stats(self) -> None:
        if not self._closed:
            self.nsp.emit("server_stats", self.stats())

    # -- development mode: sockets, rooms and events as they happen -------------------------

    def _watch(self, nsp: Namespace) -> None:
        """Report the sockets, rooms and events of ``nsp`` (and of a dynamic one's children)."""
        if nsp.parent is None:  # children share their parent's listeners
            # first, as admin-ui's prependListener: the dashboard hears of the socket
            # before the events the application's handlers send it
            nsp.prepend_listener("connection", self._on_socket)
        if not isinstance(nsp, ParentNamespace):
            name = nsp.name
            nsp.adapter.observe_rooms(
                lambda change, room, sid: self._send(
                    "room_joined" if change == "join" else "room_left",
                    name, room, sid, _timestamp()))

    def _on_socket(self, socket: Socket) -> None:
        name = socket.nsp.name
        described = self.serialize(socket, name)
        if isinstance(socket.data, dict):  # travels with the socket to other nodes' queries
            data = dict(socket.data)
            data["_admin"] = {"clientId": socket.conn.sid[:12],
                              "transport": socket.conn.transport,
                              "handshake": described["handshake"]}
            socket.data = _WatchedData(data, self._data_changed, name, socket.id)
            described["clientId"] = socket.conn.sid[:12]
        self._send("socket_connected", described, _timestamp())
        if socket.nsp is not self.nsp:
            def received(event: str, *args: Any) -> None:
                if self._heard():
                    values = [a for a in args if not isinstance(a, Ack)]
                    self._send("event_received", name, socket.id, [event, *values],
                               _timestamp())
            socket.on_any(received)
        socket.on("disconnect", lambda reason: self._send(
            "socket_disconnected", name, socket.id, reason, _timestamp()))

    def _data_changed(self, nsp: str, sid: str, data: Dict[str, Any]) -> None:
        self._send("socket_updated", {"id": sid, "nsp": nsp, "data": _public_data(data)})

    def _upgraded(self, conn: "Connection") -> None:
        """``socket_updated`` with the new transport for each socket of ``conn``'s client,
        as its upgrade completes."""
        client = conn.owner
        if not isinstance(client, Client):
            return
        for socket in list(client.sockets.values()):
            admin = socket.data.get("_admin") if isinstance(socket.data, dict) else None
            if isinstance(admin, dict):
                admin["transport"] = conn.transport
            if socket.connected:
                self._send("socket_updated", {"id": socket.id, "nsp": socket.nsp.name,
                                              "transport": conn.transport})

    def _report_sent(self, client: Client, messages: List[Any]) -> None:
        """Development mode: ``client`` sends the messages of one packet; an EVENT
        becomes ``event_sent`` for the socket it goes to (unless it is the Admin UI's)."""
        text = messages[0] if messages else None
        if not isinstance(text, str) or text[:1] not in _EVENT_HEADS \
                or text.startswith(self._own_prefix) or not self._heard():
            return
        last = self._last_sent
        if last is not None and last[0] is messages:  # a broadcast: decoded once
            packet = last[1]
        else:
            packet = self._decode(messages)
            self._last_sent = (messages, packet)
        if packet is None or packet.namespace == self.nsp.name:
            return
        socket = client.sockets.get(packet.namespace)
        if socket is not None:
            self._send("event_sent", packet.namespace, socket.id, packet.data, _timestamp())

    def _decode(self, messages: List[Any]) -> Optional[Packet]:
        decoder = Decoder(self.server.loads)
        packet = None
        try:
            for message in messages:
                packet = decoder.feed(message)
        except ProtocolError as exc:  # pragma: no cover  (we encoded it)
            log.debug("event_sent: cannot read back %r: %s", messages[0][:80], exc)
            return None
        return packet

    def close(self) -> None:
        """Stop sending stats and counting (the server is closing)."""
        self._closed = True
        if self.server.client_class is self._client_class:
            self.server.client_class = Client
        if self.server.engine.on_upgraded == self._upgraded:
            self.server.engine.on_upgraded = None
        timer, self._stats_timer = self._stats_timer, None
        if timer is not None:
            timer.cancel()


def instrument(server: "ServerCore", auth: AuthOption, mode: str = "development",
               read_only: bool = False, namespace: str = "/admin",
               server_id: Optional[str] = None, stats_interval: float = 2.0) -> Instrumentation:
    """Serve the Admin UI's namespace on ``server`` once (what ``Server.instrument`` does;
    see ``Instrumentation`` for the parameters); stopped by ``server.close_sockets()``."""
    if server._instrumentation is not None:
        raise RuntimeError("the server is instrumented already")
    server._instrumentation = Instrumentation(
        server, auth=auth, mode=mode, read_only=read_only, namespace=namespace,
        server_id=server_id, stats_interval=stats_interval)
    return server._instrumentation
