"""In-memory clients for tests: drive a server's Socket.IO layer without a network.

``TestClient`` opens a real Engine.IO session on the server (as a websocket would),
feeds it encoded messages and decodes what the server queues, with the same
codecs the transports use. Only the bytes-on-a-socket part is skipped.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List, Optional, Union
from urllib.parse import urlencode

from . import runtime
from .engineio import EngineQuery
from .engineio import Packet as EnginePacket
from .engineio import PacketType as EnginePacketType
from .http import Request
from .server.core import ServerCore
from .socketio import Decoder, Packet, PacketType, ack_values, encode, protocol_for

__all__ = ["TestClient", "ReceivedEvent", "make_environ"]

log = logging.getLogger(__name__)


def make_environ(query: Optional[Dict[str, str]] = None, headers: Optional[Dict[str, str]] = None,
                 path: str = "/socket.io/", eio: int = 4) -> Dict[str, Any]:
    """A WSGI environ like the one of a websocket handshake from 127.0.0.1."""
    params = {"EIO": str(eio), "transport": "websocket"}
    params.update(query or {})
    environ: Dict[str, Any] = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "SCRIPT_NAME": "",
        "QUERY_STRING": urlencode(params), "SERVER_NAME": "localhost", "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost",
        "wsgi.url_scheme": "http", "wsgi.input": None, "wsgi.errors": None,
        "wsgi.version": (1, 0), "wsgi.multithread": False, "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value
        else:
            environ["HTTP_" + key] = value
    return environ


class ReceivedEvent(Dict[str, Any]):
    """``{"name", "args", "namespace"}`` of an event the server sent."""


class TestClient:
    """A Socket.IO client living in the server's process.

    :param server: the server (``sio_core.Server`` or any ``ServerCore``)
    :param eio: Engine.IO revision to speak: 4 (Socket.IO 5) or 3 (Socket.IO 4)
    :param environ: the handshake environ (see ``make_environ``)
    :param settle_timeout: how long to wait for handlers to go idle after each action
    """

    __test__ = False  # not a pytest test class

    def __init__(self, server: ServerCore, eio: int = 4, environ: Optional[Dict[str, Any]] = None,
                 settle_timeout: float = 5.0) -> None:
        self.server = server
        self.eio = eio
        self.settle_timeout = settle_timeout
        self.decoder = Decoder(server.loads)
        #: events received, per namespace, oldest first
        self.events: Dict[str, List[ReceivedEvent]] = {}
        #: socket ids per connected namespace
        self.sids: Dict[str, str] = {}
        #: refusals per namespace (the CONNECT_ERROR data)
        self.errors: Dict[str, Any] = {}
        #: namespaces the server disconnected
        self.disconnected: List[str] = []
        self.closed = False
        self._handlers: Dict[str, Callable[..., Any]] = {}
        self._protocol = protocol_for(eio)
        self._acks: Dict[Optional[int], Any] = {}  # ack id → the values answered (late too)
        self._next_ack = 0
        environ = environ or make_environ(eio=eio)
        query = EngineQuery(eio, "websocket", None, False, None)
        self.conn = server.engine.open(query, environ, Request.from_environ(environ))
        self._pump = runtime.spawn(self._pump_loop)
        self.settle()

    def _pump_loop(self) -> None:
        """Read what the server queues as soon as it is queued, like a transport would."""
        conn = self.conn
        waiter = runtime.Event()
        conn.waiter = waiter
        while True:
            if conn.session.outbox:
                self._collect()
                continue
            if conn.closed:
                return
            waiter.wait()
            waiter.clear()

    # -- plumbing --------------------------------------------------------------------------

    def _send(self, packet: Packet) -> None:
        for message in encode(packet, self.server.dumps).messages():
            self.server.engine.handler.on_message(self.conn, message)

    def _busy(self) -> bool:
        if self.conn.session.outbox:
            return True
        client = self.conn.owner
        if client is None:
            return False
        return any(s._worker is not None for s in client.sockets.values())

    def settle(self, timeout: Optional[float] = None) -> None:
        """Let the server's handlers run until they are idle, collecting what they send."""
        deadline = runtime.monotonic() + (self.settle_timeout if timeout is None else timeout)
        quiet = 0
        while runtime.monotonic() < deadline:
            runtime.sleep(0)
            if self._busy():
                quiet = 0
                runtime.sleep(0.001)
            else:
                quiet += 1
                if quiet >= 3:
                    return

    def _collect(self) -> bool:
        session = self.conn.session
        if not session.outbox:
            return False
        for packet in session.take():
            if packet.type is EnginePacketType.MESSAGE:
                decoded = self.decoder.feed(packet.data)
                if decoded is not None:
                    self._on_packet(decoded)
            elif packet.type is EnginePacketType.PING:  # answer heartbeats like a real client
                self.conn.session.receive(EnginePacket(EnginePacketType.PONG, packet.data),
                                          self.conn.engine.clock.monotonic())
            elif packet.type is EnginePacketType.CLOSE:
                self.closed = True
        return True

    def _on_packet(self, packet: Packet) -> None:
        nsp = packet.namespace
        if packet.type is PacketType.CONNECT:
            self.sids[nsp] = self._protocol.reply_socket_id(packet, self.conn.sid)
        elif packet.type is PacketType.CONNECT_ERROR:
            self.errors[nsp] = packet.data
        elif packet.type is PacketType.DISCONNECT:
            self.sids.pop(nsp, None)
            self.disconnected.append(nsp)
        elif packet.type is PacketType.ACK:
            self._acks[packet.id] = packet.data
        elif packet.type is PacketType.EVENT:
            name, args = packet.data[0], packet.data[1:]
            self.events.setdefault(nsp, []).append(
                ReceivedEvent(name=name, args=args, namespace=nsp))
            handler = self._handlers.get(name)
            if packet.id is not None:
                answer = handler(*args) if handler is not None else None
                self._send(Packet(PacketType.ACK, nsp, ack_values(answer), packet.id))
            elif handler is not None:
                handler(*args)

    # -- API ---------------------------------------------------------------------------------

    def on(self, event: str, fn: Callable[..., Any]) -> None:
        """Answer server events ``event``; the return value is the ack for acked ones."""
        self._handlers[event] = fn

    def connect(self, namespace: str = "/", auth: Optional[Dict[str, Any]] = None) -> bool:
        """Connect to ``namespace`` (protocol 4 clients are on ``/`` from the start).

        :returns: whether the server admitted the connection
        """
        request = self._protocol.connect_request(namespace, auth)
        if request is not None:  # None: protocol 4 clients are on ``/`` from the start
            self._send(request)
        self.settle()
        return namespace in self.sids

    def is_connected(self, namespace: str = "/") -> bool:
        """Whether ``namespace`` is connected."""
        return namespace in self.sids and not self.conn.closed

    def emit(self, event: str, *args: Any, namespace: str = "/", ack: bool = False) -> Any:
        """Emit an event; with ``ack=True`` return the server's answer (list of values)."""
        ack_id = None
        if ack:
            ack_id = self._next_ack
            self._next_ack += 1
        self._send(Packet(PacketType.EVENT, namespace, [event, *args], ack_id))
        self.settle()
        if ack:
            return self._acks.pop(ack_id, None)
        return None

    def send(self, *args: Any, namespace: str = "/", ack: bool = False) -> Any:
        """Send a ``message`` event."""
        return self.emit("message", *args, namespace=namespace, ack=ack)

    def get_received(self, namespace: Optional[str] = None) -> List[ReceivedEvent]:
        """Events received on ``namespace`` (all when None) since the last call; clears them."""
        self.settle(0.05)
        if namespace is None:
            out = [e for events in self.events.values() for e in events]
            self.events = {}
            return out
        return self.events.pop(namespace, [])

    def disconnect(self, namespace: Optional[str] = None) -> None:
        """Leave ``namespace``, or close the whole connection when None."""
        if namespace is None:
            self.conn.close(notify=False)
        else:
            self._send(Packet(PacketType.DISCONNECT, namespace))
            self.sids.pop(namespace, None)
        self.settle()

    def raw(self, message: Union[str, bytes]) -> None:
        """Feed one raw Engine.IO message (for malformed-input tests)."""
        self.server.engine.handler.on_message(self.conn, message)
        self.settle()
