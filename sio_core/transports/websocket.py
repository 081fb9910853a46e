"""The websocket transport: an Engine.IO session over a ``WebSocket`` (``wsconn``).

The reader feeds each message to the session; the writer puts the session's outbox on
the socket, from one hub callback per loop iteration for all sessions (``_flush_marked``)
or, for what that cannot finish at once, from a greenlet per session. The close frame
always follows the messages queued before it. An idle connection holds no greenlet: the
event loop's watcher starts the reader when bytes arrive (``_Reader``), and the writer's
greenlet lives only while it has something to finish. The framing itself is the pure codec's
(``sio_core.websocket``), the socket's handling ``wsconn.WebSocket``'s.
docs/conformance.md has the section-by-section check against the Autobahn test suite.
"""
from __future__ import annotations

import io
import logging
import warnings
from typing import Any, Callable, Dict, List, Optional, Tuple

from .. import debug, runtime
from ..debug import trace
from ..engineio import CloseReason, EngineQuery, PacketType, ProtocolError
from ..engineio.packet import decode_frame, encode_frame
from ..http import Request
from ..server.engine import Connection, EngineServer
from ..websocket import encode_message
from . import wsconn
from .wsconn import DEFLATE_KEY, PENDING, UPGRADE_HEAD_KEY, ConnectionClosed, group_writes

__all__ = ["agree_deflate", "serve_websocket"]

log = logging.getLogger(__name__)

#: the environ key under which ``sio_core.serving`` puts the connection's socket
PEER_SOCKET_KEY = "sio_core.socket"

#: the reader lets other greenlets run after this many messages in a row
YIELD_EVERY = 16

#: ``(id(data), version, frame key) -> (data, frame)``: frames made during one flush
#: callback, so that a broadcast is framed once per protocol version (and permessage-deflate
#: parameters: ``WebSocket.frame_key``), not once per recipient
FrameCache = Dict[Tuple[int, int, Any], Tuple[Any, bytes]]


class _Writer:
    """Puts a session's outbox on its websocket.

    The writer is the connection's ``waiter``: ``Connection.wake`` only marks it. One hub
    callback per loop iteration then writes the outboxes of every marked session with
    non-blocking sends (``_flush_marked``): a broadcast to many clients costs no greenlet
    switch per recipient, and frames queued within one iteration still share a write.
    A greenlet (``run``) exists only while there is what that cannot finish at once:
    leftovers of a partial write to a full socket, a write while the reader is answering
    a ping, the close (``finish``), which ends the connection.
    """

    __slots__ = ("conn", "ws", "version", "running", "marked", "leftover", "abort_timer",
                 "close_code", "reader", "finished", "done")

    #: the writers marked since the last flush callback, of every session in the process
    #: (the callback runs in the one hub)
    marked_writers: List["_Writer"] = []

    def __init__(self, conn: Connection, ws: wsconn.WebSocket) -> None:
        self.conn = conn
        self.ws = ws
        self.version = conn.session.version
        #: a greenlet writes: the callback leaves the outbox to it
        self.running = False
        self.marked = False
        #: bytes the callback could not write, which the greenlet sends first
        self.leftover: Optional[List[bytes]] = None
        #: armed when the session closes while the greenlet may be stuck in a send
        self.abort_timer: Optional[runtime.TimerHandle] = None
        #: the code of the close frame written after the last queued message
        self.close_code = 1000
        #: the reader driven by the event loop, stopped when the connection ends
        self.reader: Optional[_Reader] = None
        #: the connection has ended (close frame written, socket shut)
        self.finished = False
        #: set when it ends, for a request that must wait for that (``serve_websocket``)
        self.done: Optional[runtime.Event] = None

    def set(self) -> None:
        """``Connection.wake`` for this session (the waiter's ``set``): flush at the next
        loop iteration."""
        if not self.marked:
            self.marked = True
            marked = self.marked_writers
            marked.append(self)
            if len(marked) == 1:
                runtime.call_soon(_flush_marked, marked)

    def take_writes(self, cache: Optional[FrameCache] = None) -> List[bytes]:
        """The outbox, framed; close packets are left out (closing the socket says it).

        :param cache: frames of messages already framed for other sessions (server
            frames are unmasked: the same bytes for every recipient)
        """
        version = self.version
        frames = []
        packets = self.conn.session.take()
        if trace.engine_packets:
            debug.engine_packets(self.conn.sid, "websocket", "send", packets)
        ws = self.ws
        frame_key = ws.frame_key
        frame: Callable[[Any], bytes] = encode_message if frame_key is None else ws.frame
        if frame_key is False:
            cache = None  # compressed with this connection's own context
        for packet in packets:
            ptype = packet.type
            if ptype is PacketType.CLOSE:
                continue
            make: Callable[[Any], bytes]
            if not packet.compress:  # socket.compress(False): a plain frame
                key, make = None, encode_message
            else:
                key, make = frame_key, frame
            if cache is None or ptype is not PacketType.MESSAGE:
                frames.append(make(encode_frame(packet, version)))
                continue
            data = packet.data
            cache_key = (id(data), version, key)
            hit = cache.get(cache_key)
            if hit is None or hit[0] is not data:  # the cache holds data: ids stay unique
                hit = cache[cache_key] = (data, make(encode_frame(packet, version)))
            frames.append(hit[1])
        return group_writes(frames)

    def flush(self, cache: Optional[FrameCache] = None) -> None:
        """Write the outbox without waiting, or hand over to a greenlet (in the hub)."""
        self.marked = False
        if self.finished:
            return
        session = self.conn.session
        if session.closed and self.abort_timer is None:
            # a client that reads nothing keeps a send blocked forever: give the
            # greenlet a ping timeout to finish, then reset the connection
            self.abort_timer = runtime.call_later(
                self.conn.engine.options.ping_timeout, _abort, self.ws)
        if self.running:
            return  # the greenlet looks at the outbox before it stops
        if session.closed or self.ws.busy:
            self.start()
            return
        if not session.outbox:
            return
        self._try_send(self.take_writes(cache))

    def write_first(self, head: bytes) -> None:
        """Write ``head`` (the serving edge's 101) and what is queued (the open packet) now,
        in one send."""
        writes = self.take_writes()
        writes[:1] = [head + writes[0]] if writes else [head]
        self._try_send(writes)

    def _try_send(self, writes: List[bytes]) -> None:
        try:
            leftover = self.ws.try_send(writes)
        except OSError:
            leftover = writes  # the greenlet meets the error and closes
        if leftover:
            self.leftover = leftover
            self.start()

    def start(self) -> None:
        """Hand the writing to a greenlet until the outbox is empty."""
        self.running = True
        runtime.spawn(self.run)

    def run(self) -> None:
        """The greenlet: write what the callback could not; end the connection once the
        session has closed and everything queued before is written."""
        conn, ws = self.conn, self.ws
        session = conn.session
        ended = True
        try:
            while True:
                leftover, self.leftover = self.leftover, None
                if leftover:
                    ws.send_writes(leftover)
                if session.outbox:
                    ws.send_writes(self.take_writes())
                    continue
                if not session.closed:
                    ended = False
                    return  # nothing left: the hub callback writes again
                break
        except OSError:
            conn.close(CloseReason.TRANSPORT_ERROR, notify=False)
        finally:
            self.running = False
            if ended:
                self.finish()

    def finish(self) -> None:
        """End the connection: the close frame, the socket shut (and released if ours)."""
        if self.finished:
            return
        self.finished = True
        conn, ws = self.conn, self.ws
        if conn.waiter is self:
            conn.waiter = None
        if self.reader is not None:
            self.reader.watch.close()
        try:
            ws.close(self.close_code)
            ws.shutdown()
        finally:
            if self.abort_timer is not None:
                self.abort_timer.cancel()
            if ws.owns_socket:
                ws.close_socket()
            if self.done is not None:
                self.done.set()


def _flush_marked(marked: List[_Writer]) -> None:
    """The hub callback: flush every writer marked since the last one."""
    writers = marked[:]
    del marked[:]
    cache: Optional[FrameCache] = {} if len(writers) > 1 else None
    for writer in writers:
        try:
            writer.flush(cache)
        except Exception:  # never into the hub
            log.exception("flushing %s failed", writer.conn.sid)
            if not writer.running and not writer.finished:
                writer.start()


def _abort(ws: wsconn.WebSocket) -> None:
    log.info("resetting a websocket connection whose client stopped reading")
    ws.abort()


def _read_failed(conn: Connection, writer: _Writer, exc: Exception) -> None:
    """Close the session for what reading met.

    The reader never writes the close frame itself: it tells the writer which code to
    use, and the writer sends it after what was queued before (the answers to the
    messages that came before a close frame or a broken one are still delivered).
    """
    session = conn.session
    if isinstance(exc, ProtocolError):
        log.info("closing %s: %s", conn.sid, exc)
        writer.close_code = 1002
        conn.close(exc.reason, notify=False)
    elif isinstance(exc, ConnectionClosed):
        conn.close(CloseReason.TRANSPORT_CLOSE, notify=False)
    elif isinstance(exc, wsconn.WebSocketError):
        log.info("closing %s: %s", conn.sid, exc)
        writer.close_code = exc.code
        conn.close(CloseReason.TRANSPORT_ERROR, notify=False)
    elif isinstance(exc, OSError):
        conn.close(CloseReason.TRANSPORT_ERROR if not session.closed
                   else session.reason or CloseReason.TRANSPORT_CLOSE, notify=False)
    else:
        log.error("reading from %s failed", conn.sid, exc_info=exc)
        writer.close_code = 1011
        conn.close(CloseReason.TRANSPORT_ERROR, notify=False)


class _Reader:
    """Reads a session's messages when the event loop says the socket is readable.

    No greenlet waits for an idle client: the loop's watcher calls ``readable``, which
    runs ``read`` in a greenlet that lives until what has arrived is handled.
    """

    __slots__ = ("conn", "ws", "writer", "watch")

    def __init__(self, conn: Connection, ws: wsconn.WebSocket, writer: _Writer) -> None:
        self.conn = conn
        self.ws = ws
        self.writer = writer
        self.watch = runtime.ReadableWatch(ws.fileno(), self.readable)

    def readable(self) -> None:
        """The watcher's callback (in the hub)."""
        self.watch.stop()
        runtime.run_now(self.read)

    def read(self) -> None:
        """Handle what the socket holds, then watch it again (unless the session closed).

        The handlers of what was read then run in this greenlet if their socket's queue
        was idle (``runtime.Batch``): no greenlet is spawned for a message that came alone.
        """
        batch = runtime.Batch()
        try:
            _read(self.conn, self.ws, self.writer, False, batch)
            if self.conn.session.closed:
                self.conn.wake()
            elif not self.writer.finished:
                self.watch.start()
        finally:
            batch.run()


def _read(conn: Connection, ws: wsconn.WebSocket, writer: _Writer, wait: bool,
          batch: Optional[runtime.Batch] = None) -> None:
    """Read messages into the session until it closes or, unless ``wait``, until the
    socket holds no more (``batch``: the reader's, whose handlers start before it yields)."""
    session = conn.session
    version = session.version
    unyielded = 0
    unreported = 0  # messages handed up since the last conn.received()
    short = False  # the last read did not fill its buffer: the socket is empty
    now = runtime.monotonic()  # about when the bytes being handled arrived
    try:
        while not session.closed:
            message = ws.next_message()
            if message is PENDING:
                if unreported:
                    unreported = 0
                    conn.received()
                if wait:
                    ws.read()
                elif short:
                    return
                else:
                    got = ws.read_nowait()
                    if not got:
                        return
                    short = got < wsconn.READ_SIZE
                now = runtime.monotonic()
                continue
            if message is None:
                conn.close(CloseReason.TRANSPORT_CLOSE, notify=False)
                return
            # into the session and up (conn.received(): once for the messages read together)
            packet = decode_frame(message, version)
            if trace.engine_packets:
                debug.engine_packets(conn.sid, "websocket", "recv", (packet,))
            conn.receive(packet, now)
            unreported += 1
            unyielded += 1
            if unyielded == YIELD_EVERY:
                # messages that arrived together are read without waiting: let the
                # handlers and the writer keep up, so that queues stay within their
                # bounds for a client that pipelines many requests
                unyielded = unreported = 0
                conn.received()
                if batch is not None:
                    batch.start()
                runtime.sleep(0)
                now = runtime.monotonic()
        if unreported:
            conn.received()
    except Exception as exc:
        _read_failed(conn, writer, exc)


def _run(conn: Connection, ws: wsconn.WebSocket, head: Optional[bytes] = None) -> None:
    """Serve the session on ``ws``: returns at once when ``ws`` owns its connection
    (the event loop drives it from then on), else when the connection has ended.

    :param head: the 101 the serving edge left unsent, written with the open packet
    """
    writer = _Writer(conn, ws)
    conn.waiter = writer
    if head is None:
        conn.wake()  # what is queued already (the open packet) goes out
    else:
        writer.write_first(head)
    if ws.owns_socket:
        reader = writer.reader = _Reader(conn, ws, writer)
        reader.read()  # what came with the request; then the watcher
        return
    writer.done = runtime.Event()
    try:
        _read(conn, ws, writer, wait=True)
    finally:
        conn.wake()
        if not writer.done.wait(timeout=conn.engine.options.ping_timeout + 1.0):
            ws.abort()  # a send still stuck past the abort timer's
            writer.finish()
        ws.shutdown()


def _upgrade(conn: Connection, ws: wsconn.WebSocket) -> bool:
    """Run the probe exchange on a websocket joining a polling session."""
    session = conn.session
    version = session.version
    timeout = conn.engine.options.upgrade_timeout
    try:
        with runtime.Timeout(timeout, wsconn.WebSocketError("upgrade timed out", 1000)):
            message = ws.receive()
            if message is None:
                ws.close(1000)
                return False
            ws.send([encode_frame(session.probe(decode_frame(message, version)), version)])
            conn.wake()  # the waiting GET answers with a noop so the client can pause polling
            message = ws.receive()
            if message is None:
                session.abort_upgrade()
                ws.close(1000)
                return False
            session.upgrade(decode_frame(message, version))
            conn.wake()
            if conn.engine.on_upgraded is not None:
                conn.engine.on_upgraded(conn)
            if trace.engine:
                debug.engine_upgraded(conn.sid, "websocket")
            return True
    except (ProtocolError, wsconn.WebSocketError, OSError) as exc:
        (log.debug if isinstance(exc, OSError) else log.info)(
            "upgrade of %s failed: %s", conn.sid, exc)
        session.abort_upgrade()
        ws.close(exc.code if isinstance(exc, wsconn.WebSocketError) else 1002)
        return False


def _let_request_go(environ: Dict[str, Any], ws: wsconn.WebSocket) -> None:
    """The session keeps ``environ``: drop what ties it to the WSGI server's handler
    (its request body reader and buffer, the socket object it no longer owns)."""
    environ["wsgi.input"] = io.BytesIO()
    if environ.get(PEER_SOCKET_KEY) is not None:
        environ[PEER_SOCKET_KEY] = ws.socket


def agree_deflate(environ: Dict[str, Any], engine: EngineServer) -> None:
    """Before the 101: answer the client's permessage-deflate offer per the engine's
    ``per_message_deflate``, leaving what was agreed under ``DEFLATE_KEY`` for the serving
    edge (which states it in the 101) and ``WebSocket.from_environ``. Nothing is agreed
    for a client that offers nothing acceptable, or when the option is off."""
    wsconn.accept_deflate(environ, engine.options.per_message_deflate)


def serve_websocket(engine: EngineServer, query: EngineQuery, environ: Any,
                    req: Request) -> None:
    """Serve an upgraded websocket request: a new session, or the upgrade of a polling one.

    Under ``sio_core.serving``'s handler the connection is taken from the WSGI server and
    this returns once the session is set up: the event loop drives it from then on, and no
    greenlet waits for an idle client. Under another handler it returns when the
    connection ends.

    :param environ: the request's WSGI environ (the session keeps it; gevent-websocket's
        connection is under ``wsgi.websocket``; the ``PerMessageDeflate`` agreed, if any,
        under ``wsconn.DEFLATE_KEY``, also in the environ of a polling session that upgrades;
        the 101 under ``wsconn.UPGRADE_HEAD_KEY`` when the serving edge left it to be sent)
    :param req: the request, as the WSGI edge read it
    """
    ws = wsconn.WebSocket.from_environ(environ, engine.options.max_http_buffer_size)
    if ws.owns_socket:
        _let_request_go(environ, ws)
    head: Optional[bytes] = environ.pop(UPGRADE_HEAD_KEY, None)
    served = False
    try:
        if query.sid is None:
            opened = engine.open(query, environ, req)
            served = True
            _run(opened, ws, head)
            return
        if head is not None:
            try:
                ws.send_writes([head])
            except OSError:
                return
        conn = engine.get(query.sid)
        if conn is None or not conn.session.can_upgrade() or conn.version != query.version:
            ws.close(1008)
            return
        if _upgrade(conn, ws):
            served = True
            if ws.deflate is not None:  # the session's environ says what its websocket agreed
                conn.environ[DEFLATE_KEY] = ws.deflate
            _run(conn, ws)
    finally:
        if not served or not ws.owns_socket:
            ws.shutdown()
            if ws.owns_socket:
                ws.close_socket()


_MOVED = {"WebSocket": wsconn.WebSocket, "WebSocketError": wsconn.WebSocketError,
          "socket_of": wsconn.WebSocket.from_environ}


def __getattr__(name: str) -> Any:
    """The names that moved to ``sio_core.transports.wsconn``, deprecated here."""
    if name in _MOVED:
        new = "WebSocket.from_environ" if name == "socket_of" else name
        warnings.warn("sio_core.transports.websocket.%s is deprecated: use "
                      "sio_core.transports.wsconn.%s" % (name, new), DeprecationWarning,
                      stacklevel=2)
        return _MOVED[name]
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
