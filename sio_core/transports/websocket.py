"""The websocket transport: RFC 6455 framing over the socket gevent-websocket hands us.

gevent-websocket performs the HTTP upgrade; from then on this module reads and
writes frames itself, because the library reads payloads without a length
limit, has no lock for concurrent writers, drops empty messages and unmasks
in pure Python. Here the frame length is checked against the limit before any
payload is read, writes go through one lock, and unmasking uses ``wsaccel``
when installed. Text is checked as UTF-8 as it arrives (a bad byte fails the
connection with 1007 without waiting for the rest of the message), and the close
frame always follows the messages queued before it. docs/conformance.md has the
section-by-section check against the Autobahn test suite.
"""
from __future__ import annotations

import codecs
import logging
import os
import socket as socketlib
import struct
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from ..engineio import CloseReason, EngineQuery, PacketType, ProtocolError
from ..engineio.packet import decode_frame, encode_frame
from ..server import runtime
from ..server.engine import Connection, EngineServer

try:  # optional C accelerator
    from wsaccel.xormask import XorMaskerSimple as _XorMasker
except ImportError:  # pragma: no cover - depends on the environment
    _XorMasker = None

__all__ = ["WebSocket", "WebSocketError", "serve_websocket", "socket_of"]

log = logging.getLogger(__name__)

Frame = Union[str, bytes]

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

#: queued frames above this count are written with a single send
BATCH_FROM = 4

#: the reader lets other greenlets run after this many messages in a row
YIELD_EVERY = 16

#: close codes that must never be sent in a close frame (RFC 6455, 7.4.1)
_LOCAL_CODES = frozenset((1005, 1006, 1015))


class WebSocketError(Exception):
    """The peer broke the websocket protocol (or went away); ``code`` is the close code."""

    def __init__(self, message: str, code: int = 1002) -> None:
        super().__init__(message)
        self.code = code


class ConnectionClosed(WebSocketError):
    """The peer closed the TCP connection between frames (without a close frame)."""


def _invalid_utf8() -> WebSocketError:
    return WebSocketError("invalid UTF-8 in a text message", 1007)


def _unmask(mask: bytes, data: bytes) -> bytes:
    if not data:
        return data
    if _XorMasker is not None:
        return _XorMasker(mask).process(data)
    size = len(data)
    key = int.from_bytes((mask * (size // 4 + 1))[:size], "little")
    return (int.from_bytes(data, "little") ^ key).to_bytes(size, "little")


_utf8_decoder = codecs.getincrementaldecoder("utf-8")


def _valid_close_code(code: int) -> bool:
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def _check_close(payload: bytes) -> None:
    """Validate a close frame's payload: empty, or a valid status code and a UTF-8 reason."""
    if not payload:
        return
    if len(payload) == 1:
        raise WebSocketError("close frame with half a status code")
    (code,) = struct.unpack("!H", payload[:2])
    if not _valid_close_code(code):
        raise WebSocketError("close frame with the invalid status code %d" % code)
    try:
        payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise WebSocketError("close frame reason is not UTF-8", 1007) from None


def _header(opcode: int, length: int, masked: bool = False) -> bytes:
    bit = 0x80 if masked else 0
    if length < 126:
        return struct.pack("!BB", 0x80 | opcode, bit | length)
    if length < 65536:
        return struct.pack("!BBH", 0x80 | opcode, bit | 126, length)
    return struct.pack("!BBQ", 0x80 | opcode, bit | 127, length)


def _frame(message: Frame, masked: bool = False, opcode: int = 0) -> bytes:
    if isinstance(message, str):
        data, op = message.encode("utf-8"), OP_TEXT
    else:
        data, op = bytes(message), OP_BINARY
    op = opcode or op
    if not masked:
        return _header(op, len(data)) + data
    mask = os.urandom(4)
    return _header(op, len(data), True) + mask + _unmask(mask, data)


def group_writes(frames: List[bytes]) -> List[bytes]:
    """Framed messages as the writes that carry them (see ``WebSocket.writes``)."""
    if len(frames) <= BATCH_FROM:
        return frames
    return [b"".join(frames)]


#: ``(id(data), version) -> (data, frame)``: frames made during one flush callback, so
#: that a broadcast is framed once per protocol version, not once per recipient
FrameCache = Dict[Tuple[int, int], Tuple[Any, bytes]]


class WebSocket:
    """A websocket over a connected socket (server side, or client side with ``client=True``).

    :param rfile: buffered reader of the socket (the WSGI handler's ``rfile``)
    :param sock: the socket, for ``sendall``
    :param max_size: largest message accepted, in bytes
    :param client: we are the client: mask what we send, expect unmasked frames
    """

    __slots__ = ("_read", "_read1", "_sock", "max_size", "_lock", "closed", "client")

    def __init__(self, rfile: Any, sock: Any, max_size: int, client: bool = False) -> None:
        self._read = rfile.read
        # what is there without waiting for more (a reader without read1 waits: still correct)
        self._read1 = getattr(rfile, "read1", rfile.read)
        self._sock = sock
        try:  # small frames must not wait for Nagle's algorithm
            sock.setsockopt(socketlib.IPPROTO_TCP, socketlib.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass
        self.max_size = max_size
        self._lock = runtime.Lock()
        self.closed = False
        self.client = client

    def _exact(self, size: int) -> bytes:
        data = self._read(size)
        if len(data) != size:
            raise WebSocketError("connection closed mid-frame", 1006)
        return data

    def _read_head(self, budget: int) -> Tuple[int, int, int, Optional[bytes]]:
        """The next frame's FIN bit, opcode, payload length and mask (None if unmasked);
        its reserved bits, masking and length are checked before any payload is read."""
        head = self._read(2)
        if not head:
            raise ConnectionClosed("connection closed", 1006)
        if len(head) == 1:
            head += self._exact(1)
        b0, b1 = head
        if b0 & 0x70:
            raise WebSocketError("reserved bits set (no extension was negotiated)")
        masked = bool(b1 & 0x80)
        if masked == self.client:
            raise WebSocketError("client frame not masked" if not self.client
                                 else "server frame masked")
        opcode, length = b0 & 0x0F, b1 & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._exact(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._exact(8))
        if opcode >= 0x8 and (length > 125 or not b0 & 0x80):
            raise WebSocketError("bad control frame")
        if opcode < 0x8 and length > budget:
            raise WebSocketError("message over the %d byte limit" % self.max_size, 1009)
        return b0 & 0x80, opcode, length, self._exact(4) if masked else None

    def _payload(self, length: int, mask: Optional[bytes]) -> bytes:
        data = self._exact(length)
        return data if mask is None else _unmask(mask, data)

    def _text(self, length: int, mask: Optional[bytes], decoder: Any, out: List[str],
              data: bytes = b"") -> None:
        """Read a text payload as it arrives (``data``: what was already read), decoding
        each piece: invalid UTF-8 fails the connection at once, not when the message
        is complete (a client cannot make us wait for the rest of a doomed message)."""
        done = 0
        read1 = self._read1
        while True:
            if data:
                if mask is not None:
                    shift = done & 3
                    data = _unmask(mask[shift:] + mask[:shift] if shift else mask, data)
                done += len(data)
                try:
                    out.append(decoder.decode(data))
                except UnicodeDecodeError:
                    raise _invalid_utf8() from None
            if done == length:
                return
            data = read1(length - done)
            if not data:
                raise WebSocketError("connection closed mid-frame", 1006)

    def receive(self) -> Optional[Frame]:
        """The next message (``str`` for text, ``bytes`` for binary); None when the peer
        sent a close frame (answer it with ``close``).

        :raises WebSocketError: on a protocol violation (close with its ``code``)
        :raises OSError: when the connection breaks
        """
        opcode = 0
        parts: List[Any] = []
        size = 0
        decoder = None
        while True:
            fin, op, length, mask = self._read_head(self.max_size - size)
            if op >= 0x8:
                payload = self._payload(length, mask)
                if op == OP_PING:
                    self._send_raw(_frame(payload, self.client, OP_PONG))
                    continue
                if op == OP_PONG:
                    continue
                if op == OP_CLOSE:
                    _check_close(payload)
                    return None
                raise WebSocketError("unknown opcode %d" % op)
            if op == OP_CONT:
                if not opcode:
                    raise WebSocketError("continuation without a message")
            elif op == OP_TEXT or op == OP_BINARY:
                if opcode:
                    raise WebSocketError("new message inside a fragmented one")
                opcode = op
                if fin:  # a whole message in one frame: the usual case, kept short
                    if op == OP_BINARY:
                        return self._payload(length, mask)
                    data = self._read1(length) if length else b""
                    if len(data) == length:
                        if mask is not None:
                            data = _unmask(mask, data)
                        try:
                            return data.decode("utf-8")
                        except UnicodeDecodeError:
                            raise _invalid_utf8() from None
                    decoder = _utf8_decoder()
                    self._text(length, mask, decoder, parts, data)
                    return self._last_text(decoder, parts)
            else:
                raise WebSocketError("unknown opcode %d" % op)
            size += length
            if opcode == OP_BINARY:
                parts.append(self._payload(length, mask))
                if fin:
                    return parts[0] if len(parts) == 1 else b"".join(parts)
                continue
            if decoder is None:
                decoder = _utf8_decoder()
            self._text(length, mask, decoder, parts)
            if fin:
                return self._last_text(decoder, parts)

    @staticmethod
    def _last_text(decoder: Any, parts: List[str]) -> str:
        try:
            decoder.decode(b"", True)  # a code point cut off at the end
        except UnicodeDecodeError:
            raise _invalid_utf8() from None
        return "".join(parts)

    def _send_raw(self, data: bytes) -> None:
        # a loop on send(), not sendall(): gevent's sendall asks the kernel for the send
        # buffer size on every call, a second system call per write
        with self._lock:
            send = self._sock.send
            sent = send(data)
            if sent < len(data):
                view = memoryview(data)
                while sent < len(view):
                    sent += send(view[sent:])

    def writes(self, messages: Sequence[Frame]) -> List[bytes]:
        """The bytes of ``messages`` as the writes that carry them.

        A few frames go out one write each: naive peers (the protocol test suites among
        them) handle one frame per read event. A backlog goes out in a single write.
        """
        masked = self.client
        return group_writes([_frame(message, masked) for message in messages])

    def send(self, messages: Sequence[Frame]) -> None:
        """Send messages, one frame each (see ``writes``), waiting while the socket is full.

        :raises OSError: when the connection is gone
        """
        self.send_writes(self.writes(messages))

    def send_writes(self, writes: Sequence[bytes]) -> None:
        """Send what ``writes`` (or ``try_send``) returned, waiting while the socket is full.

        :raises OSError: when the connection is gone
        """
        for data in writes:
            self._send_raw(data)

    def try_send(self, writes: List[bytes]) -> List[bytes]:
        """Send without ever waiting; return what the socket did not take.

        For the hub's flush callback: the caller makes sure no other writer holds the
        lock (``busy``). gevent's ``send`` with a zero timeout raises instead of waiting.

        :raises OSError: when the connection is gone
        """
        send = self._sock.send
        for index, data in enumerate(writes):
            try:
                sent = send(data, 0, 0.0)
            except BlockingIOError:
                sent = 0
            if sent < len(data):
                return [data[sent:]] + writes[index + 1:]
        return []

    @property
    def busy(self) -> bool:
        """Whether a greenlet is writing right now."""
        return self._lock.locked()

    def close(self, code: int = 1000) -> None:
        """Send a close frame (once) and stop.

        The codes that only report a local condition (1005, 1006, 1015) send no frame.
        """
        if self.closed:
            return
        self.closed = True
        if code in _LOCAL_CODES:
            return
        try:
            self._send_raw(_frame(struct.pack("!H", code), self.client, OP_CLOSE))
        except OSError:
            pass


def socket_of(environ: Any, max_size: int) -> WebSocket:
    """Our ``WebSocket`` over the connection gevent-websocket upgraded for ``environ``."""
    library_ws = environ["wsgi.websocket"]
    handler = library_ws.handler
    library_ws.closed = True  # the library must not write its own frames from now on
    return WebSocket(handler.rfile, handler.socket, max_size)


class _Writer:
    """Puts a session's outbox on its websocket.

    ``Connection.wake`` only marks the writer. One hub callback per loop iteration then
    writes the outboxes of every marked session with non-blocking sends (``flush_marked``):
    a broadcast to many clients costs no greenlet switch per recipient, and frames queued
    within one iteration still share a write. The writer greenlet (``run``) takes over
    whatever that cannot finish at once: leftovers of a partial write to a full socket,
    a write while the reader is answering a ping, the close.
    """

    __slots__ = ("conn", "ws", "version", "event", "idle", "marked", "leftover", "abort_timer",
                 "close_code")

    def __init__(self, conn: Connection, ws: WebSocket) -> None:
        self.conn = conn
        self.ws = ws
        self.version = conn.session.version
        self.event = runtime.Event()
        #: the greenlet waits and owns nothing unwritten: the callback may write
        self.idle = False
        self.marked = False
        #: bytes the callback could not write, which the greenlet sends first
        self.leftover: List[bytes] = []
        #: armed when the session closes while the greenlet may be stuck in a send
        self.abort_timer: Optional[runtime.TimerHandle] = None
        #: the code of the close frame written after the last queued message
        self.close_code = 1000

    def mark(self) -> None:
        """``Connection.wake`` for this session: flush at the next loop iteration."""
        if not self.marked:
            self.marked = True
            marked = self.conn.engine.flush_queue
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
        for packet in self.conn.session.take():
            ptype = packet.type
            if ptype is PacketType.CLOSE:
                continue
            if cache is None or ptype is not PacketType.MESSAGE:
                frames.append(_frame(encode_frame(packet, version)))
                continue
            data = packet.data
            key = (id(data), version)
            hit = cache.get(key)
            if hit is None or hit[0] is not data:  # the cache holds data: ids stay unique
                hit = cache[key] = (data, _frame(encode_frame(packet, version)))
            frames.append(hit[1])
        return group_writes(frames)

    def flush(self, cache: Optional[FrameCache] = None) -> None:
        """Write the outbox without waiting, or hand over to the greenlet (in the hub)."""
        self.marked = False
        session = self.conn.session
        if session.closed and not self.idle and self.abort_timer is None:
            # a client that reads nothing keeps the send blocked forever: give the
            # greenlet a ping timeout to finish, then reset the connection
            self.abort_timer = runtime.call_later(
                self.conn.engine.options.ping_timeout, _abort, self.ws)
        if not self.idle or session.closed or self.ws.busy:
            self.event.set()
            return
        if not session.outbox:
            return
        writes = self.take_writes(cache)
        try:
            self.leftover = self.ws.try_send(writes)
        except OSError:
            self.leftover = writes  # the greenlet meets the error and closes
        if self.leftover:
            self.idle = False
            self.event.set()

    def run(self) -> None:
        """The greenlet: write what the callback could not, until the session closes."""
        conn, ws, event = self.conn, self.ws, self.event
        session = conn.session
        conn.flusher = self.mark
        try:
            while True:
                leftover, self.leftover = self.leftover, []
                if leftover:
                    ws.send_writes(leftover)
                if session.outbox:
                    ws.send_writes(self.take_writes())
                    continue
                if session.closed:
                    break
                self.idle = True
                event.wait()
                event.clear()
                self.idle = False
        except OSError:
            conn.close(CloseReason.TRANSPORT_ERROR, notify=False)
        finally:
            self.idle = False
            if self.abort_timer is not None:
                self.abort_timer.cancel()
            if conn.flusher == self.mark:
                conn.flusher = None
            ws.close(self.close_code)
            _shutdown(ws)


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
            writer.event.set()


def _abort(ws: WebSocket) -> None:
    """Reset the connection: blocked reads and sends fail now, and the final close sends
    RST and drops the unsent data (a FIN would wait behind it forever)."""
    log.info("resetting a websocket connection whose client stopped reading")
    try:
        ws._sock.setsockopt(socketlib.SOL_SOCKET, socketlib.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    _shutdown(ws)


def _shutdown(ws: WebSocket) -> None:
    try:
        ws._sock.shutdown(2)
    except OSError:
        pass


def _read_loop(conn: Connection, ws: WebSocket, writer: _Writer) -> None:
    """Read messages into the session until it closes.

    The reader never writes the close frame itself: it tells the writer which code to
    use, and the writer sends it after what was queued before (the answers to the
    messages that came before a close frame or a broken one are still delivered).
    """
    session = conn.session
    version = session.version
    unyielded = 0
    try:
        while not session.closed:
            message = ws.receive()
            if message is None:
                conn.close(CloseReason.TRANSPORT_CLOSE, notify=False)
                return
            event = session.receive(decode_frame(message, version), runtime.monotonic())
            if event is not None:
                conn.dispatch([event])
            conn.received()
            unyielded += 1
            if unyielded == YIELD_EVERY:
                # messages that arrived together are read without waiting: let the
                # handlers and the writer keep up, so that queues stay within their
                # bounds for a client that pipelines many requests
                unyielded = 0
                runtime.sleep(0)
    except ProtocolError as exc:
        log.info("closing %s: %s", conn.sid, exc)
        writer.close_code = 1002
        conn.close(exc.reason, notify=False)
    except ConnectionClosed:
        conn.close(CloseReason.TRANSPORT_CLOSE, notify=False)
    except WebSocketError as exc:
        log.info("closing %s: %s", conn.sid, exc)
        writer.close_code = exc.code
        conn.close(CloseReason.TRANSPORT_ERROR, notify=False)
    except OSError:
        conn.close(CloseReason.TRANSPORT_ERROR if not session.closed
                   else session.reason or CloseReason.TRANSPORT_CLOSE, notify=False)


def _run(conn: Connection, ws: WebSocket) -> None:
    state = _Writer(conn, ws)
    writer = runtime.spawn(state.run)
    try:
        _read_loop(conn, ws, state)
    finally:
        conn.wake()
        writer.join(timeout=conn.engine.options.ping_timeout)
        if not writer.dead:
            writer.kill()
        _shutdown(ws)


def _upgrade(conn: Connection, ws: WebSocket) -> bool:
    """Run the probe exchange on a websocket joining a polling session."""
    session = conn.session
    version = session.version
    timeout = conn.engine.options.upgrade_timeout
    try:
        with runtime.Timeout(timeout, WebSocketError("upgrade timed out", 1000)):
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
            return True
    except (ProtocolError, WebSocketError, OSError) as exc:
        (log.debug if isinstance(exc, OSError) else log.info)(
            "upgrade of %s failed: %s", conn.sid, exc)
        session.abort_upgrade()
        ws.close(exc.code if isinstance(exc, WebSocketError) else 1002)
        return False


def serve_websocket(engine: EngineServer, query: EngineQuery, environ: Any) -> None:
    """Serve an upgraded websocket request: a new session, or the upgrade of a polling one."""
    ws = socket_of(environ, engine.options.max_http_buffer_size)
    try:
        if query.sid is None:
            conn = engine.open(query, environ)
            _run(conn, ws)
            return
        conn = engine.get(query.sid)
        if conn is None or not conn.session.can_upgrade() or conn.version != query.version:
            ws.close(1008)
            return
        if _upgrade(conn, ws):
            _run(conn, ws)
    finally:
        _shutdown(ws)
