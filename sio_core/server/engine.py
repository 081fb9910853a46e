"""EngineServer: the registry of Engine.IO sessions, their heartbeat, and hooks for the layer above.

The transports (``sio_core.transports``) feed bytes in and take packets out; this
module owns the ``Session`` state machines, wakes the transports when packets are
queued, and runs one heartbeat greenlet for all sessions.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import secrets
import warnings
from typing import Any, Callable, Dict, Iterable, List, Optional, Protocol

from .. import debug, runtime
from ..debug import trace
from ..engineio import (
    Closed,
    CloseReason,
    EngineOptions,
    EngineQuery,
    Message,
    Packet,
    PacketType,
    SendResult,
    Session,
    heartbeat_for,
    open_packet,
)
from ..engineio.packet import Data
from ..http import Request
from .clock import Clock

__all__ = ["EngineHandler", "Connection", "EngineServer", "Waiter", "default_generate_id"]

log = logging.getLogger(__name__)


class Waiter(Protocol):
    """What a transport waiting for packets offers ``Connection.wake``."""

    def set(self) -> None:
        """Packets are queued (or the session closed): time to look."""


def default_generate_id(environ: Any = None) -> str:
    """A session id with 144 random bits, URL-safe."""
    return secrets.token_urlsafe(18)


class EngineHandler:
    """What the layer above implements to hear about sessions. Methods must not block."""

    def on_connect(self, conn: "Connection") -> None:
        """A session opened."""

    def on_message(self, conn: "Connection", data: Data) -> None:
        """A message (``str`` or ``bytes``) arrived on ``conn``."""

    def on_close(self, conn: "Connection", reason: CloseReason) -> None:
        """``conn`` closed for ``reason``."""


class Connection:
    """One client's Engine.IO session as the layer above sees it.

    ``send`` may be called from any greenlet (and, with a logged warning, from OS threads).
    """

    __slots__ = ("engine", "session", "environ", "request", "waiter", "owner", "receiver",
                 "linger_until", "scheduled", "__weakref__")

    def __init__(self, engine: "EngineServer", session: Session, environ: Dict[str, Any],
                 request: Request) -> None:
        self.engine = engine
        self.session = session
        #: the WSGI environ of the request that opened the session (opaque here: handed to
        #: the application's hooks as is, never read)
        self.environ = environ
        #: the request that opened the session, as the edge read it
        self.request = request
        #: what ``wake`` calls ``set()`` on, if a transport waits: the ``Event`` a polling
        #: GET waits on, or the websocket transport's writer (which flushes from the hub)
        self.waiter: Optional[Waiter] = None
        #: the object of the layer above that this session belongs to (the Socket.IO
        #: ``Client``), set by that layer
        self.owner: Any = None
        #: ``fn(data)``, handed each message from the client: the handler's ``on_message``
        #: for this connection, unless the layer above names its own receiver (the Socket.IO
        #: server names its ``Client``'s, one call less per message)
        self.receiver: Callable[[Data], None] = self._to_handler
        #: a closed polling session stays until its last packets are collected, or this time
        self.linger_until = 0.0
        #: when the heartbeat scheduler next looks at this session
        self.scheduled = 0.0

    @property
    def sid(self) -> str:
        """The Engine.IO session id."""
        return self.session.sid

    @property
    def version(self) -> int:
        """Engine.IO protocol revision of this client, 3 or 4."""
        return self.session.version

    @property
    def transport(self) -> str:
        """The transport carrying the session now."""
        return self.session.transport

    @property
    def closed(self) -> bool:
        """Whether the session has closed."""
        return self.session.closed

    def __repr__(self) -> str:
        return "<Connection %r>" % (self.session,)

    def send(self, data: Data, volatile: bool = False, compress: bool = True) -> bool:
        """Queue a message for the client.

        :param data: text or bytes
        :param volatile: drop it if the transport cannot take it right now
        :param compress: False: never compressed on the websocket
        :returns: whether it was queued
        """
        if not runtime.in_hub_thread():
            runtime.run_in_hub(self.send, data, volatile, compress)
            return True
        result = self.session.send(data, volatile, compress)
        if result is SendResult.QUEUED:
            self.wake()
            return True
        if result is SendResult.OVERFLOW:
            log.warning("closing %s: %d packets queued, the client does not read fast enough",
                        self.sid, len(self.session.outbox))
            self.close(CloseReason.TRANSPORT_ERROR, notify=False)
        return False

    def send_many(self, items: Iterable[Data], compress: bool = True) -> None:
        """Queue several messages at once, waking the transport once."""
        session = self.session
        for data in items:
            result = session.send(data, False, compress)
            if result is SendResult.OVERFLOW:
                self.close(CloseReason.TRANSPORT_ERROR, notify=False)
                return
        self.wake()

    def queue(self, packet: Packet) -> None:
        """Queue a control packet and wake the transport."""
        self.session.queue(packet)
        self.wake()

    @property
    def upper(self) -> Any:
        """Deprecated name of ``owner``."""
        warnings.warn("Connection.upper is deprecated: use Connection.owner",
                      DeprecationWarning, stacklevel=2)
        return self.owner

    def wake(self) -> None:
        """Wake the transport waiting for packets, if any."""
        waiter = self.waiter
        if waiter is not None:
            waiter.set()

    def close(self, reason: CloseReason = CloseReason.FORCED_CLOSE, notify: bool = True) -> None:
        """Close the session; the layer above hears ``on_close`` once.

        :param reason: the close reason reported upward
        :param notify: send the client a close packet first
        """
        if not runtime.in_hub_thread():
            runtime.run_in_hub(self.close, reason, notify)
            return
        if self.session.close(reason, notify):
            self.engine._closed(self, reason)
        self.wake()

    def received(self) -> None:
        """Packets were fed to the session: wake the transport, re-arm the heartbeat."""
        session = self.session
        if session.outbox:
            self.wake()
        due = session.next_due()
        if due < self.scheduled and not session.closed:
            self.engine._schedule(self, due)  # a pong moved the next ping earlier

    def receive(self, packet: Packet, now: float) -> None:
        """Feed one packet from the client to the session; what it means for the layer
        above (a message, the client's close) goes up at once.

        :param packet: the decoded packet
        :param now: about when it arrived (``runtime.monotonic()``)
        :raises ProtocolError: on a packet the client may not send here
        """
        event = self.session.receive(packet, now)
        if event is None:
            return
        if type(event) is Message:
            self.receiver(event.data)
        elif type(event) is Closed:
            self.engine._closed(self, event.reason)
            self.wake()

    def _to_handler(self, data: Data) -> None:
        self.engine.handler.on_message(self, data)


class EngineServer:
    """All Engine.IO sessions of one server.

    :param options: the validated options
    :param handler: the layer above
    :param generate_id: ``fn(environ) -> str`` making session ids
    :param clock: where the time and the timers of the heartbeat, the connect timeout and
        the ack deadlines come from (default: the event loop's ``Clock``)
    """

    def __init__(
        self,
        options: Optional[EngineOptions] = None,
        handler: Optional[EngineHandler] = None,
        generate_id: Optional[Callable[[Any], str]] = None,
        clock: Optional[Clock] = None,
    ) -> None:
        self.options = options or EngineOptions()
        self.handler = handler or EngineHandler()
        #: ``fn(environ) -> str``: overridable session id factory
        self.generate_id = generate_id or default_generate_id
        #: ``monotonic()`` and ``call_later(delay, fn, *args)`` for the glue's deadlines
        self.clock = clock or Clock()
        self.sessions: Dict[str, Connection] = {}
        #: ``fn(conn)`` when a polling session has finished its upgrade (the Admin UI's)
        self.on_upgraded: Optional[Callable[[Connection], None]] = None
        self._heartbeats = {
            v: heartbeat_for(v, self.options.ping_interval, self.options.ping_timeout)
            for v in (3, 4)
        }
        self._heap: List[Any] = []
        self._forgotten = 0  # sessions forgotten since the heap was last rebuilt
        self._seq = itertools.count()
        self._ticker: Optional[runtime.Greenlet] = None
        self._ticker_wake = runtime.Event()

    @property
    def clients_count(self) -> int:
        """How many sessions are open."""
        return len(self.sessions)

    # -- sessions ------------------------------------------------------------------

    def open(self, query: EngineQuery, environ: Dict[str, Any], request: Request) -> Connection:
        """Create a session for a handshake, queue its open packet, tell the layer above.

        :param environ: the handshake's WSGI environ, kept for the application
        :param request: the handshake request as the edge read it
        """
        sid = self.generate_id(environ)
        if not isinstance(sid, str) or not sid or sid in self.sessions:
            raise RuntimeError("generate_id returned an unusable or duplicate id: %r" % (sid,))
        now = self.clock.monotonic()
        opts = self.options
        session = Session(sid, query.version, query.transport, self._heartbeats[query.version],
                          now, opts.max_queue)
        session.queue(open_packet(sid, query.version, opts.upgrades(query.transport),
                                  opts.ping_interval, opts.ping_timeout, opts.max_http_buffer_size))
        conn = Connection(self, session, environ, request)
        self.sessions[sid] = conn
        self._schedule(conn, session.next_due())
        log.debug("session %s opened (EIO=%d, %s)", sid, query.version, query.transport)
        if trace.engine:
            debug.engine_opened(sid, query.transport, query.version)
        self.handler.on_connect(conn)
        return conn

    def get(self, sid: Optional[str]) -> Optional[Connection]:
        """The open session ``sid``, or None."""
        return self.sessions.get(sid) if sid else None

    def _closed(self, conn: Connection, reason: CloseReason) -> None:
        log.debug("session %s closed: %s", conn.sid, reason)
        session = conn.session
        if trace.engine:
            debug.engine_closed(conn.sid, session.transport, reason)
        if session.outbox and session.transport == "polling" and \
                session.outbox[-1].type is PacketType.CLOSE:
            # closed by the server: keep it briefly so the next GET collects the last packets
            conn.linger_until = self.clock.monotonic() + self.options.ping_timeout
            self._schedule(conn, conn.linger_until)
        else:
            self.forget(conn)
        try:
            self.handler.on_close(conn, reason)
        except Exception:
            log.exception("error in the close handler of %s", conn.sid)

    def forget(self, conn: Connection) -> None:
        """Drop a closed session from the registry."""
        if self.sessions.get(conn.sid) is conn:
            del self.sessions[conn.sid]
            self._forgotten += 1
            heap = self._heap
            if self._forgotten > 1024 and self._forgotten * 2 > len(heap):
                # heartbeat entries of forgotten sessions would keep them (and their
                # environ) alive until due, up to a ping interval: rebuild without them
                sessions = self.sessions
                heap[:] = [entry for entry in heap if sessions.get(entry[2].sid) is entry[2]]
                heapq.heapify(heap)
                self._forgotten = 0

    # -- heartbeat -------------------------------------------------------------------

    def _schedule(self, conn: Connection, due: float) -> None:
        conn.scheduled = due
        heap = self._heap
        earliest = heap[0][0] if heap else None
        heapq.heappush(heap, (due, next(self._seq), conn))
        if self._ticker is None or self._ticker.dead:
            self._ticker = runtime.spawn(self._tick_loop)
        elif earliest is None or due < earliest:
            self._ticker_wake.set()

    def _tick_loop(self) -> None:
        heap = self._heap
        clock = self.clock
        wake = self._ticker_wake
        while heap:
            now = clock.monotonic()
            due, _, conn = heap[0]
            if due > now:
                wake.clear()
                clock.wait(wake, due - now)  # until it is due, or an earlier one is pushed
                continue
            heapq.heappop(heap)
            session = conn.session
            if session.closed:
                if not session.outbox or now >= conn.linger_until:
                    self.forget(conn)
                continue
            try:
                closed = session.tick(now)
            except Exception:
                log.exception("heartbeat of %s failed", conn.sid)
                continue
            if closed is not None:
                self._closed(conn, closed.reason)
                conn.wake()
                continue
            if session.outbox:
                conn.wake()
            if conn.scheduled <= now:  # no earlier entry was pushed meanwhile
                conn.scheduled = session.next_due()
                heapq.heappush(heap, (conn.scheduled, next(self._seq), conn))
        self._ticker = None

    # -- shutdown --------------------------------------------------------------------

    def close(self, reason: CloseReason = CloseReason.SERVER_SHUTTING_DOWN) -> None:
        """Close every session, sending each client a close packet."""
        for conn in list(self.sessions.values()):
            conn.close(reason)

    def wait_delivered(self, timeout: float) -> bool:
        """Wait (up to ``timeout`` seconds) until closed sessions have nothing left to send:
        a polling client between two requests still has to collect its close packet.

        :returns: whether everything was collected in time
        """
        deadline = runtime.monotonic() + timeout
        while any(conn.session.closed and conn.session.outbox
                  for conn in self.sessions.values()):
            if runtime.monotonic() >= deadline:
                return False
            runtime.sleep(0.01)  # the collecting requests come from the network
        return True
