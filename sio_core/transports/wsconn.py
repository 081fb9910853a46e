"""A websocket over a connected socket: the I/O around the pure codec (``sio_core.websocket``).

``WebSocket`` reads what the socket has and feeds it to a ``FrameDecoder`` (answering
pings on the way), and sends frames under one lock, so that greenlets may share it. The
server's transport and the Python client use it alike (``client=True`` masks what is sent).
``from_environ`` takes over the connection a WSGI server upgraded; ``TakeableWebSocket`` is
the gevent-websocket object ``sio_core.serving`` puts in the environ to make that clean.
With permessage-deflate agreed (``enable_deflate``), messages at or over the threshold go
compressed and compressed messages received are inflated within ``max_size``.
"""
from __future__ import annotations

import logging
import os
import socket as socketlib
import struct
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from gevent.socket import socket as _PlainSocket
from geventwebsocket.websocket import WebSocket as LibraryWebSocket

from .. import runtime
from ..websocket import (
    LOCAL_CODES,
    OP_PONG,
    Close,
    DeflateOptions,
    FrameDecoder,
    PerMessageDeflate,
    Ping,
    WebSocketProtocolError,
    encode_close,
    encode_control,
    encode_message,
    negotiate,
)

try:  # optional C accelerator
    from wsaccel.xormask import XorMaskerSimple as _XorMasker
except ImportError:  # pragma: no cover - depends on the environment
    _XorMasker = None

__all__ = ["BATCH_FROM", "ConnectionClosed", "DEFLATE_KEY", "PENDING", "TakeableWebSocket",
           "UPGRADE_HEAD_KEY", "WebSocket", "WebSocketError", "accept_deflate", "group_writes"]

log = logging.getLogger(__name__)

Frame = Union[str, bytes]

#: queued frames above this count are written with a single send
BATCH_FROM = 4

#: the most bytes one read takes from the socket
READ_SIZE = 65536

#: what ``WebSocket.receive`` raises when the peer breaks the protocol or goes away
#: mid-frame (code 1006): the codec's error, which carries the close code
WebSocketError = WebSocketProtocolError

_LINGER_RESET = struct.pack("ii", 1, 0)

#: the environ key under which the serving edge puts the ``PerMessageDeflate`` of the
#: permessage-deflate it agreed in the 101 (absent: no extension)
DEFLATE_KEY = "sio_core.permessage_deflate"

#: the environ key under which the serving edge may leave its ``101 Switching Protocols``
#: answer unsent: the websocket transport then sends it with the first frames (for a new
#: session, the open packet: one write, not two), and at once before anything else
UPGRADE_HEAD_KEY = "sio_core.upgrade_head"


def accept_deflate(environ: Dict[str, Any], options: Optional[DeflateOptions]) -> None:
    """Before the 101: answer the client's permessage-deflate offer
    (``Sec-WebSocket-Extensions``) per ``options``, leaving the ``PerMessageDeflate`` agreed
    under ``DEFLATE_KEY`` (the serving edge states it in the 101, ``from_environ`` uses it).
    Nothing is agreed when ``options`` is None or no offer is acceptable."""
    if options is None:
        return
    agreed = negotiate(environ.get("HTTP_SEC_WEBSOCKET_EXTENSIONS", ""), options)
    if agreed is not None:
        environ[DEFLATE_KEY] = PerMessageDeflate(agreed, False, options.threshold,
                                                 options.level, options.mem_level)


class _Pending:
    __slots__ = ()

    def __repr__(self) -> str:
        return "PENDING"


#: what ``WebSocket.next_message`` returns while no whole message has arrived
PENDING: Any = _Pending()


class ConnectionClosed(WebSocketProtocolError):
    """The peer closed the TCP connection between frames (without a close frame)."""


def _accelerated_unmask(mask: bytes, data: bytes) -> bytes:
    return _XorMasker(mask).process(data) if data else data


def group_writes(frames: List[bytes]) -> List[bytes]:
    """Framed messages as the writes that carry them (see ``WebSocket.writes``)."""
    if len(frames) <= BATCH_FROM:
        return frames
    return [b"".join(frames)]


class TakeableWebSocket(LibraryWebSocket):  # type: ignore[misc]
    """gevent-websocket's websocket object, whose connection an application can take over.

    ``sio_core.serving``'s handler makes this one where gevent-websocket's handler makes
    its own. After ``take_over`` the object never writes again: its ``close`` (which the
    handler calls when the request ends, and the garbage collector too) sends nothing,
    as the new owner closes the connection itself.
    """

    __slots__ = ("taken",)

    def __init__(self, environ: Dict[str, Any], stream: Any, handler: Any) -> None:
        super().__init__(environ, stream, handler)
        #: whether ``take_over`` was called
        self.taken = False

    def take_over(self) -> Tuple[Any, Any]:
        """Hand the connection over: the handler's buffered reader and its socket."""
        self.taken = True
        return self.handler.rfile, self.handler.socket

    @property
    def detachable(self) -> bool:
        """Whether ``detach`` can hand the connection over: a plain gevent socket (a TLS
        one keeps its handler, which reads and writes through its TLS state)."""
        return type(self.handler.socket) is _PlainSocket

    def detach(self) -> Tuple[Any, bytes]:
        """Hand the connection over for good: a new socket object for its descriptor, and
        the bytes the handler had read past the request.

        The handler's socket, buffered reader (and its buffer) and the handler itself are
        then free to go when the request ends: pywsgi closes a socket object that no
        longer holds the descriptor. Nothing is read from the socket that was not already
        buffered.
        """
        self.taken = True
        handler = self.handler
        old = handler.socket
        old.settimeout(0.0)  # the buffered reader then takes what it holds, never waits
        try:
            pending = handler.rfile.read1(READ_SIZE) or b""
        except OSError:  # nothing buffered, and the connection already broken
            pending = b""
        old.settimeout(None)
        handler.close_connection = True
        sock = type(old)(old.family, old.type, old.proto, fileno=old.detach())
        return sock, pending

    def close(self, code: int = 1000, message: bytes = b"") -> None:
        """gevent-websocket's close, unless the connection was taken over."""
        if not self.taken:
            super().close(code, message)


class WebSocket:
    """A websocket over a connected socket (server side, or client side with ``client=True``).

    :param rfile: buffered reader of the socket (the WSGI handler's ``rfile``)
    :param sock: the socket, for sending
    :param max_size: largest message accepted, in bytes
    :param client: we are the client: mask what we send, expect unmasked frames
    :param nodelay: turn Nagle's algorithm off on ``sock`` (false: it is off already)
    """

    __slots__ = ("_read1", "_sock", "_decoder", "max_size", "_lock", "closed", "client",
                 "owns_socket", "deflate")

    def __init__(self, rfile: Any, sock: Any, max_size: int, client: bool = False,
                 *, nodelay: bool = True) -> None:
        # what is there without waiting for more (a reader without read1 waits: still
        # correct); without a reader, the socket's own recv
        self._read1 = sock.recv if rfile is None else getattr(rfile, "read1", rfile.read)
        self._sock = sock
        if nodelay:  # small frames must not wait for Nagle's algorithm
            try:
                sock.setsockopt(socketlib.IPPROTO_TCP, socketlib.TCP_NODELAY, 1)
            except (OSError, AttributeError):
                pass
        self._decoder = FrameDecoder(
            max_size, client, _accelerated_unmask if _XorMasker is not None else None)
        self.max_size = max_size
        self._lock = runtime.Lock()
        #: a close frame was sent (or the close code said none must be)
        self.closed = False
        self.client = client
        #: this object alone holds the connection (``from_environ`` took it from the WSGI
        #: server): it may outlive the request, and ``close_socket`` ends it
        self.owns_socket = False
        #: permessage-deflate, when it was agreed (``enable_deflate``)
        self.deflate: Optional[PerMessageDeflate] = None

    @classmethod
    def from_environ(cls, environ: Dict[str, Any], max_size: int) -> "WebSocket":
        """Take over the connection the WSGI server upgraded for ``environ``.

        Under ``sio_core.serving``'s handler, gevent-websocket's object then stays silent,
        and a plain (not TLS) connection is detached from the handler: ``owns_socket`` is
        then true, and the request may end while the websocket lives on.
        Under gevent-websocket's own handler (its gunicorn worker), that object writes its
        close frame when the request ends: call ``shutdown`` before returning, and that
        write finds the connection shut.

        :param max_size: largest message accepted, in bytes
        """
        upgraded = environ["wsgi.websocket"]
        if not isinstance(upgraded, TakeableWebSocket):
            return cls(upgraded.handler.rfile, upgraded.handler.socket, max_size)
        if not upgraded.detachable:
            ws = cls(*upgraded.take_over(), max_size)
        else:
            sock, pending = upgraded.detach()
            # sio_core.serving's handlers turned Nagle off for the connection already
            ws = cls(None, sock, max_size, nodelay=False)
            ws.owns_socket = True
            if pending:
                ws._decoder.feed(pending)
        deflate = environ.get(DEFLATE_KEY)
        if deflate is not None:
            ws.enable_deflate(deflate)
        return ws

    def enable_deflate(self, deflate: PerMessageDeflate) -> None:
        """Use permessage-deflate as agreed in the handshake, both ways."""
        self.deflate = self._decoder.deflate = deflate

    @property
    def frame_key(self) -> Any:
        """What frames of the same message differ by between connections: None for
        plain frames, the compression parameters with permessage-deflate, or False
        when this connection's compressed frames are its own (context takeover)."""
        deflate = self.deflate
        if deflate is None:
            return None
        if deflate.share_key is None:
            return False
        return (deflate.share_key, deflate.threshold)

    def frame(self, message: Frame, compress: bool = True) -> bytes:
        """One message's frame: compressed when permessage-deflate was agreed, unless
        ``compress`` is false or the message is under the threshold (its ``len``)."""
        mask = os.urandom(4) if self.client else None
        deflate = self.deflate
        if deflate is not None and compress and len(message) >= deflate.threshold:
            return encode_message(message, mask, deflate.compress)
        return encode_message(message, mask)

    @property
    def socket(self) -> Any:
        """The connection's socket."""
        return self._sock

    def fileno(self) -> int:
        """The socket's descriptor."""
        return self._sock.fileno()

    def receive(self) -> Optional[Frame]:
        """The next message (``str`` for text, ``bytes`` for binary); None when the peer
        sent a close frame (answer it with ``close``). Pings are answered on the way.

        :raises WebSocketError: on a protocol violation (close with its ``code``)
        :raises ConnectionClosed: when the peer closed the connection between frames
        :raises OSError: when the connection breaks
        """
        while True:
            message = self.next_message()
            if message is not PENDING:
                return message  # type: ignore[no-any-return]
            self.read()

    def read(self) -> int:
        """Read from the socket, waiting for at least a byte (for ``next_message``).

        :returns: how many bytes were read
        :raises ConnectionClosed: when the peer closed the connection between frames
        :raises WebSocketError: when it closed it mid-frame
        :raises OSError: when the connection breaks
        """
        data = self._read1(READ_SIZE)
        self._feed(data)
        return len(data)

    def _feed(self, data: bytes) -> None:
        if not data:
            if self._decoder.in_frame:
                raise WebSocketError("connection closed mid-frame", 1006)
            raise ConnectionClosed("connection closed", 1006)
        self._decoder.feed(data)

    def read_nowait(self) -> int:
        """Read what the socket holds now, without waiting (for ``next_message``).

        :returns: how many bytes were read, 0 when there were none
        :raises ConnectionClosed: when the peer closed the connection between frames
        :raises WebSocketError: when it closed it mid-frame
        :raises OSError: when the connection breaks
        """
        try:
            data = self._sock._sock.recv(READ_SIZE)  # gevent's socket never waits there
        except (BlockingIOError, InterruptedError):
            return 0
        self._feed(data)
        return len(data)

    def next_message(self) -> Any:
        """The next message among the bytes read so far, answering pings on the way:
        ``str`` or ``bytes``, None for a close frame, ``PENDING`` when it has not all
        arrived.

        :raises WebSocketError: on a protocol violation (close with its ``code``)
        """
        next_event = self._decoder.next_event
        while True:
            event = next_event()
            if event is None:
                return PENDING
            kind = type(event)
            if kind is str or kind is bytes:
                return event
            if kind is Ping:
                self._send_raw(encode_control(OP_PONG, event.payload, self._mask()))  # type: ignore[union-attr]
            elif kind is Close:
                return None

    def _mask(self) -> Optional[bytes]:
        return os.urandom(4) if self.client else None

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
        if self.deflate is not None:
            return group_writes([self.frame(m) for m in messages])
        if self.client:
            return group_writes([encode_message(m, os.urandom(4)) for m in messages])
        return group_writes([encode_message(m) for m in messages])

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
        """Send a close frame (once).

        The codes that only report a local condition (1005, 1006, 1015) send no frame.
        """
        if self.closed:
            return
        self.closed = True
        if code in LOCAL_CODES:
            return
        try:
            self._send_raw(encode_close(code, mask=self._mask()))
        except OSError:
            pass

    def shutdown(self) -> None:
        """Shut the connection down both ways: blocked reads and sends fail now."""
        try:
            self._sock.shutdown(socketlib.SHUT_RDWR)
        except OSError:
            pass

    def abort(self) -> None:
        """Reset the connection: blocked reads and sends fail now, and the final close
        sends RST and drops the unsent data (a FIN would wait behind it forever)."""
        try:
            self._sock.setsockopt(socketlib.SOL_SOCKET, socketlib.SO_LINGER, _LINGER_RESET)
        except OSError:
            pass
        self.shutdown()

    def close_socket(self) -> None:
        """Release the connection's descriptor (after ``shutdown``)."""
        try:
            self._sock.close()
        except OSError:
            pass
