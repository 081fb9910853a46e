"""The Admin UI: the server side that the ``@socket.io/admin-ui`` dashboard talks to.

``server.instrument(auth=False)`` opens a namespace (``/admin`` by default) where the
dashboard finds:

- ``config`` with the features this server offers, when it connects;
- ``server_stats`` from every node every ``stats_interval`` seconds (server id, host name,
  pid, uptime, client counts, each namespace with its socket count);
- in development mode, ``all_sockets`` when it connects, then ``socket_connected``,
  ``socket_disconnected``, ``room_joined``, ``room_left`` and ``event_received`` as they
  happen;
- the actions it sends (unless ``read_only``): ``emit``, ``join``, ``leave`` and
  ``_disconnect`` on the sockets of a namespace, optionally only those in a room.

Everything goes through the namespaces' adapters, so with a multi-node adapter
(``RedisAdapter``) the dashboard sees the stats of every node and its actions apply to
the sockets of every node.

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
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Set, Union

from . import runtime
from .errors import ConnectionRefusedError
from .server.namespace import Namespace, ParentNamespace
from .server.socket import Ack, Socket

if TYPE_CHECKING:  # pragma: no cover
    from .server.core import ServerCore

__all__ = ["Instrumentation", "instrument"]

log = logging.getLogger(__name__)

#: what ``auth`` may be: False, or ``{"type": "basic", "username": ..., "password": ...}``
AuthOption = Union[bool, Dict[str, str]]

#: the dashboard's names for what the server lets it do
ACTION_FEATURES = ["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT"]


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
        if self.development:
            self.features.append("ALL_EVENTS")
        hostname = platform.node()
        self._base_stats = {"serverId": server_id or "%s#%d" % (hostname, os.getpid()),
                            "hostname": hostname, "pid": os.getpid()}
        self.nsp = server.of(namespace)
        if self._basic is not None:
            self.nsp.use(self._authenticate)
        self.nsp.on("connection", self._on_admin)
        if self.development:
            for nsp in server._all_namespaces():
                self._watch(nsp)
            for parent in server._parents:
                self._watch(parent)
            server.on_new_namespace(self._watch)
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

    def _send(self, event: str, *args: Any) -> None:
        if not self._closed:
            self._outbox.schedule(self.nsp.emit, event, *args)

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
        """This node's ``server_stats``."""
        engine = self.server.engine
        sessions = list(engine.sessions.values())
        namespaces = [{"name": nsp.name, "socketsCount": len(nsp.connected)}
                      for nsp in self.server._all_namespaces()
                      if not isinstance(nsp, ParentNamespace)]
        return dict(self._base_stats, uptime=time.monotonic() - self._started,
                    clientsCount=len(sessions),
                    pollingClientsCount=sum(1 for c in sessions if c.transport == "polling"),
                    aggregatedEvents=[], namespaces=namespaces)

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
            nsp.on("connection", self._on_socket)
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
            socket.data["_admin"] = {"clientId": socket.conn.sid[:12],
                                     "transport": socket.conn.transport,
                                     "handshake": described["handshake"]}
            described["clientId"] = socket.conn.sid[:12]
        self._send("socket_connected", described, _timestamp())
        if socket.nsp is not self.nsp:
            def received(event: str, *args: Any) -> None:
                values = [a for a in args if not isinstance(a, Ack)]
                self._send("event_received", name, socket.id, [event, *values], _timestamp())
            socket.on_any(received)
        socket.on("disconnect", lambda reason: self._send(
            "socket_disconnected", name, socket.id, reason, _timestamp()))

    def close(self) -> None:
        """Stop sending stats (the server is closing)."""
        self._closed = True
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
