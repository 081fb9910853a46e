"""Client: one Engine.IO connection and the namespace sockets multiplexed over it."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Union

from .. import debug, runtime
from ..debug import trace
from ..engineio import CloseReason
from ..http import query_pairs
from ..socketio import Decoder, Packet, PacketType, ProtocolError, encode, protocol_for
from .socket import Handshake, Socket

if TYPE_CHECKING:  # pragma: no cover
    from .core import ServerCore
    from .engine import Connection

__all__ = ["Client"]

log = logging.getLogger(__name__)


class Client:
    """The Socket.IO side of one Engine.IO connection.

    :param server: the server
    :param conn: the Engine.IO connection
    """

    __slots__ = ("server", "conn", "protocol", "decoder", "sockets", "_timer", "_request",
                 "_packet_bytes", "max_queue", "max_buffered_bytes")

    def __init__(self, server: "ServerCore", conn: "Connection") -> None:
        self.server = server
        #: the Engine.IO connection
        self.conn = conn
        #: protocol 4 or 5 policy
        self.protocol = protocol_for(conn.version)
        #: most events, and most bytes of them, that may wait for one socket's handlers
        self.max_queue = conn.engine.options.max_queue
        self.max_buffered_bytes = server.max_buffered_bytes
        self.decoder = Decoder(server.loads, max_attachment_bytes=self.max_buffered_bytes)
        #: namespace name → socket (connecting or connected)
        self.sockets: Dict[str, Socket] = {}
        self._timer: Optional[runtime.TimerHandle] = None
        self._request: Any = None
        self._packet_bytes = 0  # size of the messages of the packet being decoded
        if self.protocol.implicit_root:
            self.connect("/", {}, None)
        else:
            self._timer = conn.engine.clock.call_later(server.connect_timeout,
                                                       self._connect_timeout)

    def __repr__(self) -> str:
        return "<Client %s v%d>" % (self.conn.sid, self.protocol.revision)

    @property
    def id(self) -> str:
        """The Engine.IO session id."""
        return self.conn.sid

    @property
    def request(self) -> Any:
        """The request that opened the connection, as the server's ``request_factory``
        makes it (a werkzeug ``Request`` under ``sio_core.Server``), built once."""
        if self._request is None:
            self._request = self.make_request()
        return self._request

    def make_request(self) -> Any:
        """A new request object for the handshake, from the server's ``request_factory``.

        :raises RuntimeError: when the server has none (a bare ``ServerCore``)
        """
        factory = self.server.request_factory
        if factory is None:
            raise RuntimeError("%s has no request_factory to build requests with"
                               % type(self.server).__name__)
        return factory(self.conn.environ)

    def _connect_timeout(self) -> None:
        self._timer = None
        if not any(s.connected for s in self.sockets.values()) and not self.conn.closed:
            log.info("closing %s: no namespace connected within %ss", self.conn.sid,
                     self.server.connect_timeout)
            self.conn.close(CloseReason.FORCED_CLOSE, notify=True)

    # -- inbound --------------------------------------------------------------------------

    def on_message(self, data: Union[str, bytes]) -> None:
        """An Engine.IO message arrived."""
        try:
            packet = self.decoder.feed(data)
        except ProtocolError as exc:
            log.info("closing %s: %s", self.conn.sid, exc)
            self.conn.close(CloseReason.PARSE_ERROR, notify=False)
            return
        self._packet_bytes += len(data)
        if packet is None:
            return
        size, self._packet_bytes = self._packet_bytes, 0
        if trace.socket_packets:
            debug.socket_received(self.conn.sid, packet, size)
        if packet.type is PacketType.CONNECT:
            name, query, auth = self.protocol.split_connect(packet)
            self.connect(name, query, auth)
            return
        socket = self.sockets.get(packet.namespace)
        if socket is None:
            log.debug("%s: packet for unconnected namespace %s", self.conn.sid, packet.namespace)
            return
        socket._on_packet(packet, size)

    def connect(self, name: str, query: Dict[str, str], auth: Optional[Dict[str, Any]]) -> None:
        """Connect this client to namespace ``name`` (middlewares run in the socket's queue)."""
        if name in self.sockets:
            log.debug("%s: already connected to %s", self.conn.sid, name)
            return
        nsp = self.server._namespace_for(name, auth)
        if nsp is None:
            self.write(self.protocol.refusal(name, "Invalid namespace"))
            return
        request = self.conn.request
        merged = dict(query)
        merged.update(query_pairs(request.query_string))
        if auth is not None and not isinstance(auth, dict):
            auth = None
        socket = Socket(nsp, self, self.protocol.socket_id(name, self.conn.sid),
                        Handshake(request, merged, auth))
        self.sockets[name] = socket
        socket.schedule(nsp._connect, socket)

    def joined(self) -> None:
        """A socket was admitted: the connect timeout no longer applies."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def forget(self, socket: Socket) -> None:
        """Drop ``socket`` from this client."""
        if self.sockets.get(socket.nsp.name) is socket:
            del self.sockets[socket.nsp.name]

    def on_close(self, reason: str) -> None:
        """The Engine.IO connection closed: every socket disconnects with ``reason``."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for socket in list(self.sockets.values()):
            socket._on_close(reason)

    # -- outbound -------------------------------------------------------------------------

    def write(self, packet: Packet, volatile: bool = False) -> None:
        """Encode and send one packet."""
        self.write_messages(encode(packet, self.server.dumps).messages(), volatile)

    def write_messages(self, messages: List[Any], volatile: bool = False,
                       compress: bool = True) -> None:
        """Send already-encoded messages (a packet and its attachments) as one unit
        (``compress`` False: never compressed on the websocket)."""
        conn = self.conn
        if volatile and not conn.session.writable():
            return
        if trace.socket_packets:
            debug.socket_sent(conn.sid, messages)
        if len(messages) == 1:
            conn.send(messages[0], False, compress)
        else:
            conn.send_many(messages, compress)

    def disconnect_all(self) -> None:
        """Disconnect every socket, then close the connection."""
        for socket in list(self.sockets.values()):
            socket.disconnect()
        self.conn.close(CloseReason.FORCED_CLOSE)
