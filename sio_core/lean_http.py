"""A lean HTTP/1.1 path for Engine.IO requests, with gevent's pywsgi as the fallback.

``LeanHandler`` is the per-connection handler of ``sio_core.serving``'s gevent server when
``make_server(..., http_parser="httptools")`` (or ``"auto"`` with ``httptools``
installed). It reads each request head itself and parses it with ``httptools``' C
parser; a plain request for the Engine.IO path (a long-polling GET or POST, a CORS
preflight, a websocket upgrade) is answered directly: a small WSGI environ, the
``WSGIApp`` called as pywsgi would call it, the answer written with one ``send``. The
checks, the answers and the deadlines (``HttpTimeouts``) are the same, with one
difference: a body (up to ``max_http_buffer_size``) is read whole before the application
runs, so a request whose body never arrives gets ``408`` at ``request_timeout`` even where
pywsgi would have answered it at once without reading the body (an unknown session's POST).

Everything else, and anything unusual, is handed to pywsgi's handler (the server's
``fallback_handler_class``: ``SioWebSocketHandler``) on the same connection, with the
bytes already read: any other path (the client bundle, the wrapped application),
HTTP/1.0, a chunked body, ``Expect``, a head ``httptools`` refuses, a percent-encoded
path, a repeated header. The connection stays with pywsgi from then on. With TLS, or an
application wrapped in middleware the lean path does not know, pywsgi serves everything.
"""
from __future__ import annotations

import io
import logging
import socket
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from gevent import pywsgi
from gevent.socket import socket as _PlainSocket

from . import runtime
from .http import Request, Response, header_name
from .transports.wsconn import DEFLATE_KEY, UPGRADE_HEAD_KEY, TakeableWebSocket
from .websocket import WebSocketProtocolError, accept_key, check_key
from .wsgi.app import PEER_SOCKET_KEY, REQUEST_KEY, WSGIApp
from .wsgi.middleware import Middleware

try:
    import httptools
except ImportError:  # the ``http`` extra is not installed: pywsgi serves everything
    httptools = None  # type: ignore[assignment]

__all__ = ["LeanHandler", "lean_available", "find_engine_app", "HTTP_PARSERS"]

log = logging.getLogger(__name__)

#: the values of ``make_server``'s ``http_parser``
HTTP_PARSERS = ("auto", "httptools", "pywsgi")

#: a head longer than this goes to pywsgi (which answers it per its own limits)
MAX_HEAD = 65536
#: a longer request line goes to pywsgi (it answers 414)
MAX_REQUEST_LINE = pywsgi.MAX_REQUEST_LINE
#: more headers than this go to pywsgi (``http.client``'s limit: it answers 400)
MAX_HEADERS = 100
_READ_SIZE = 65536
_METHODS = frozenset({"GET", "POST", "OPTIONS"})
_WEBSOCKET_VERSIONS = ("13", "8", "7")
#: the answer to a request that missed a deadline (both HTTP paths send it)
REQUEST_TIMEOUT_RESPONSE = (b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
                            b"Content-Length: 0\r\n\r\n")


def peer_host(address: Any) -> str:
    """The host part of a connection's ``client_address``, for the logs (``-`` if none)."""
    return address[0] if isinstance(address, tuple) else str(address or "-")


def lean_available() -> bool:
    """Whether ``httptools`` can be imported (the ``http`` extra)."""
    return httptools is not None


def find_engine_app(app: Any) -> Optional[WSGIApp]:
    """The ``WSGIApp`` that ``app`` hands its Engine.IO requests to unchanged, or None.

    Known shapes only: a ``WSGIApp``, a ``Middleware``, a ``sio_core.Server``, and a Flask
    app whose ``wsgi_app`` is one of those (flask_sio's). Anything else (an unknown WSGI
    middleware might change the environ) leaves every request to pywsgi.
    """
    for _ in range(3):
        if isinstance(app, WSGIApp):
            return app
        owner = next((klass for klass in type(app).__mro__ if "__call__" in vars(klass)), None)
        where = (getattr(owner, "__module__", None), getattr(owner, "__qualname__", None))
        if where == (Middleware.__module__, "Middleware"):
            return app.sio_app  # type: ignore[no-any-return]
        if where == ("sio_core.app", "Server"):  # its __call__: Middleware(wsgi_app, ...)
            inner = getattr(app, "wsgi_app", None)
            return inner if isinstance(inner, WSGIApp) else None
        if where != ("flask.app", "Flask") or "wsgi_app" not in getattr(app, "__dict__", ()):
            return None
        app = app.wsgi_app  # Flask.__call__ calls it as it is
    return None


#: a header name as sent -> its environ key and lower-case name (None: a name that only
#: pywsgi serves), for the names seen so far (bounded: clients choose them)
_HEADER_KEYS: Dict[bytes, Optional[Tuple[str, str]]] = {}
_MAX_HEADER_KEYS = 512


def _header_keys(raw_name: bytes) -> Optional[Tuple[str, str]]:
    """The environ key pywsgi gives header ``raw_name`` and its lower-case name; None for
    a name with ``_`` (pywsgi's rule) or a body framing the lean path leaves to pywsgi."""
    key = raw_name.decode("latin-1").upper()
    keys: Optional[Tuple[str, str]] = None
    if "_" not in key:
        key = key.replace("-", "_")
        if key not in ("TRANSFER_ENCODING", "EXPECT"):
            if key != "CONTENT_TYPE" and key != "CONTENT_LENGTH":
                key = "HTTP_" + key
            # the name Request.from_environ reads back from the key
            keys = (key, header_name(key) or key.lower().replace("_", "-"))
    if len(_HEADER_KEYS) < _MAX_HEADER_KEYS:
        _HEADER_KEYS[raw_name] = keys
    return keys


class _DeadlinePassed(Exception):
    """Thrown into a handler waiting in ``_recv`` when its deadline passes."""


class _Head:
    """What ``httptools`` reports of one request head."""

    __slots__ = ("url", "headers", "complete")

    def __init__(self) -> None:
        self.url = b""
        self.headers: List[Tuple[bytes, bytes]] = []
        self.complete = False

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.complete = True


class _Replay(io.RawIOBase):
    """A socket's reader that first gives back the bytes the lean path already read."""

    def __init__(self, data: bytes, raw: Any) -> None:
        super().__init__()
        self._data = data
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> Optional[int]:
        data = self._data
        if data:
            count = min(len(buffer), len(data))
            buffer[:count] = data[:count]
            self._data = data[count:]
            return count
        return self._raw.readinto(buffer)  # type: ignore[no-any-return]

    def close(self) -> None:
        self._raw.close()
        super().close()


class _Upgraded(TakeableWebSocket):
    """The ``wsgi.websocket`` of a websocket the lean path upgraded: the transport
    detaches the connection from it, as from pywsgi's (``WebSocket.from_environ``)."""

    __slots__ = ("_release",)

    def __init__(self, environ: Dict[str, Any], release: Callable[[], Tuple[Any, bytes]]) \
            -> None:  # pylint: disable=super-init-not-called
        # gevent-websocket's slots, which mypy does not see
        self.environ = environ  # type: ignore[misc]
        self.closed = False  # type: ignore[misc]
        self.handler = None  # type: ignore[misc]
        self.taken = False
        self._release = release

    @property
    def detachable(self) -> bool:
        return True

    def detach(self) -> Tuple[Any, bytes]:
        self.taken = True
        # the session keeps the environ, hence this object: it must not keep the handler
        release, self._release = self._release, _released
        return release()

    def take_over(self) -> Tuple[Any, Any]:  # never called: detachable
        raise NotImplementedError

    def close(self, code: int = 1000, message: bytes = b"") -> None:
        self.taken = True  # the lean path closes the connection itself


_date_cache: List[Any] = [0, b""]


def _date() -> bytes:
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[0] = now
        date = pywsgi.format_date_time(now)
        _date_cache[1] = date if isinstance(date, bytes) else date.encode("latin-1")
    return _date_cache[1]  # type: ignore[no-any-return]


class LeanHandler:
    """The gevent server's handler for one connection (see the module's docstring)."""

    __slots__ = ("socket", "client_address", "server", "_buffer", "_released", "_base")

    def __init__(self, sock: Any, address: Any, server: Any) -> None:
        self.socket = sock
        self.client_address = address
        self.server = server
        self._buffer = b""
        self._released = False
        #: what every request's environ on this connection starts from
        self._base: Optional[Dict[str, Any]] = None

    @property
    def timeouts(self) -> Any:
        """The deadlines this connection is held to (the server's ``HttpTimeouts``)."""
        return self.server.http_timeouts

    def handle(self) -> None:
        """Serve the connection's requests until it closes or is handed over."""
        accepted = runtime.monotonic()
        sock = self.socket
        if type(sock) is not _PlainSocket:  # TLS: pywsgi reads through the TLS state
            self._hand_over(accepted)
            return
        _no_delay(sock, self.server)
        try:
            sock.settimeout(None)  # the deadlines are the lean path's own (``_recv``)
            self._serve(accepted)
        except (BrokenPipeError, ConnectionResetError, socket.timeout) as exc:
            log.debug("connection of %s ended: %r", self._peer(), exc)
        except OSError as exc:
            log.debug("connection of %s failed: %s", self._peer(), exc)
        except Exception:  # a bug here must cost one connection, never the server
            log.exception("internal error serving the connection of %s", self._peer())

    # -- the request loop ---------------------------------------------------------------

    def _serve(self, accepted: float) -> None:
        app: WSGIApp = self.server.lean_app
        start = accepted
        while True:
            end = self._read_head(start)
            if end is None:
                return
            if end < 0:
                self._hand_over(start)
                return
            outcome = self._one_request(app, end, start)
            if outcome is None:
                self._hand_over(start)
                return
            if not outcome:
                return
            if not self._buffer and not self._await_next():
                return
            start = runtime.monotonic()

    def _recv(self, deadline: float) -> Optional[bytes]:
        """Up to 64 KiB, waiting until ``deadline`` at most (0: no deadline); None when it
        passed.

        The socket has no timeout of its own: a wait is bounded by one event-loop timer
        that throws into this greenlet, as gevent's ``Timeout`` does, without its objects
        (and what has arrived already is read without any).
        """
        sock = self.socket
        if not deadline:
            return sock.recv(_READ_SIZE)  # type: ignore[no-any-return]
        try:
            return sock._sock.recv(_READ_SIZE)  # type: ignore[no-any-return]
        except (BlockingIOError, InterruptedError):
            pass
        remaining = deadline - runtime.monotonic()
        if remaining <= 0:
            return None
        timer = runtime.call_later(remaining, runtime.getcurrent().throw, _DeadlinePassed)
        try:
            return sock.recv(_READ_SIZE)  # type: ignore[no-any-return]
        except _DeadlinePassed:
            return None
        finally:
            timer.cancel()

    def _await_next(self) -> bool:
        """Wait for the next request's first bytes within the keep-alive timeout."""
        idle = self.timeouts.keepalive_timeout
        idle += self.server.keepalive_grace if idle else 0.0
        data = self._recv(runtime.monotonic() + idle if idle else 0.0)
        if data is None:
            log.debug("closing the idle keep-alive connection of %s after %gs",
                      self._peer(), idle)
            return False
        self._buffer = data
        return bool(data)

    def _read_head(self, start: float) -> Optional[int]:
        """Read until the buffer holds a whole head: the index of its end, -1 to hand the
        connection to pywsgi, None when it is over (closed, or answered 408)."""
        limit = self.timeouts.headers_timeout
        deadline = start + limit if limit else 0.0
        buffer = self._buffer
        end = buffer.find(b"\r\n\r\n")
        while end < 0:
            if len(buffer) > MAX_HEAD or b"\n\n" in buffer \
                    or (len(buffer) > MAX_REQUEST_LINE and b"\r\n" not in buffer):
                return -1  # oversized, or bare line feeds: pywsgi's own answer
            data = self._recv(deadline)
            if data is None:
                log.debug("closing the connection of %s: no request head within "
                          "headers_timeout=%gs", self._peer(), limit)
                self._send_quietly(REQUEST_TIMEOUT_RESPONSE)
                return None
            if not data:
                return None if not buffer.strip() else -1
            searched = max(0, len(buffer) - 3)
            buffer += data
            self._buffer = buffer
            end = buffer.find(b"\r\n\r\n", searched)
        if end > MAX_HEAD or buffer.find(b"\r\n") > MAX_REQUEST_LINE:
            return -1
        return end + 4

    def _one_request(self, app: WSGIApp, end: int, start: float) -> Optional[bool]:
        """Serve the request whose head is ``buffer[:end]``: True to go on with the
        connection, False to close it, None to hand it to pywsgi."""
        head = _Head()
        parser = httptools.HttpRequestParser(head)
        try:
            parser.feed_data(self._buffer[:end])
        except httptools.HttpParserUpgrade:
            pass
        except httptools.HttpParserError:
            return None
        if not head.complete or parser.get_http_version() != "1.1":
            return None
        method = parser.get_method().decode("latin-1")
        if method not in _METHODS:
            return None
        try:
            url = head.url.decode("ascii")
        except UnicodeDecodeError:
            return None
        path, _, query = url.partition("?")
        if (path != app.path and path != app.path + "/") or "#" in url:
            return None  # another path (or the client bundle): pywsgi and the application
        environ = self._environ(head.headers, method, path, query)
        if environ is None:
            return None
        keep_alive = "close" not in environ.get("HTTP_CONNECTION", "").lower()
        length_text = environ.get("CONTENT_LENGTH")
        length = 0
        if length_text is not None:
            if not length_text.isdigit():
                return None
            length = int(length_text)
        upgrade = environ.get("HTTP_UPGRADE")
        if upgrade is not None:
            if upgrade.lower() != "websocket" or method != "GET" or length \
                    or "upgrade" not in environ.get("HTTP_CONNECTION", "").lower() \
                    or not environ.get("HTTP_SEC_WEBSOCKET_VERSION"):
                return None  # pywsgi's and gevent-websocket's own answers
            return self._upgrade(app, environ, end)
        body_limit = app.engine.options.max_http_buffer_size
        if length > body_limit:
            # not read: the application refuses it unread (413), and the connection ends
            body: Any = io.BytesIO()
            keep_alive = False
            self._buffer = b""
        else:
            body, complete = self._read_body(end, length, start)
            if not complete:
                keep_alive = False
        environ["wsgi.input"] = body
        status, headers, payload = self._call(app, environ)
        if body is _TIMED_OUT:
            self._send_quietly(REQUEST_TIMEOUT_RESPONSE)
            return False
        close = self._respond(status, headers, payload, not keep_alive)
        self._log(method, url, status, len(payload))
        return not close

    def _read_body(self, end: int, length: int, start: float) -> Tuple[Any, bool]:
        """The body after the head that ends at ``end``: a stream for ``wsgi.input`` and
        whether it all arrived (if not, a stream whose reads fail as pywsgi's would)."""
        buffer = self._buffer
        needed = end + length
        limit = self.timeouts.request_timeout
        deadline = start + limit if limit else 0.0
        while len(buffer) < needed:
            data = self._recv(deadline)
            if data is None:
                log.info("closing the connection of %s: request not received within "
                         "request_timeout=%gs", self._peer(), limit)
                self._buffer = b""
                return _TIMED_OUT, False
            if not data:
                self._buffer = b""
                return _CUT_SHORT, False
            buffer += data
        self._buffer = buffer[needed:]
        return io.BytesIO(buffer[end:needed]), True

    def _environ(self, headers: List[Tuple[bytes, bytes]], method: str, path: str,
                 query: str) -> Optional[Dict[str, Any]]:
        """The request's WSGI environ as pywsgi builds it; None for a head pywsgi
        should see (repeated or odd headers, a body framing other than Content-Length)."""
        if len(headers) > MAX_HEADERS:
            return None
        base = self._base
        if base is None:
            base = self._base = self.server.get_environ()
            base["SCRIPT_NAME"] = ""
            base["SERVER_PROTOCOL"] = "HTTP/1.1"
            address = self.client_address
            if isinstance(address, tuple):
                base["REMOTE_ADDR"] = str(address[0])
                base["REMOTE_PORT"] = str(address[1])
            base["wsgi.input_terminated"] = True
            base[PEER_SOCKET_KEY] = self.socket
        environ = base.copy()
        environ["REQUEST_METHOD"] = method
        environ["PATH_INFO"] = path
        environ["QUERY_STRING"] = query
        by_name: Dict[str, str] = {}  # what Request.from_environ would read back
        names = _HEADER_KEYS
        for raw_name, raw_value in headers:
            keys = names.get(raw_name) or _header_keys(raw_name)
            if keys is None:
                return None
            key, name = keys
            if key in environ:
                return None
            value = environ[key] = raw_value.decode("latin-1").strip()
            if key != "CONTENT_LENGTH" and (value or key != "CONTENT_TYPE"):
                by_name[name] = value
        environ[REQUEST_KEY] = Request.from_environ(environ, by_name)
        return environ

    def _call(self, app: WSGIApp, environ: Dict[str, Any]) -> Tuple[str, List[Tuple[str, str]],
                                                                       bytes]:
        """Run the application as pywsgi would: its status, headers and body."""
        answer: List[Any] = []

        def start_response(status: str, headers: List[Tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], None]:
            answer[:] = [status, headers]
            return _no_write

        body = b"".join(app(environ, start_response))
        return answer[0], answer[1], body

    def _respond(self, status: str, headers: List[Tuple[str, str]], body: bytes,
                 close: bool) -> bool:
        """Write the answer with one ``send``, with pywsgi's Date and connection headers;
        whether the connection closes after it (``close``, or the application said so)."""
        lines = ["HTTP/1.1 %s\r\n" % status]
        connection = keep_alive = False
        for name, value in headers:
            lines.append("%s: %s\r\n" % (name, value))
            if name[0] in "CcKk":
                lowered = name.lower()
                if lowered == "connection":
                    connection = True
                    close = close or value.lower() == "close"
                elif lowered == "keep-alive":
                    keep_alive = True
        head = "".join(lines).encode("latin-1") + b"Date: " + _date() + b"\r\n"
        if close:
            if not connection:
                head += b"Connection: close\r\n"
        elif self.timeouts.keepalive_timeout >= 1 and not keep_alive:
            head += b"Keep-Alive: timeout=%d\r\n" % int(self.timeouts.keepalive_timeout)
        _send_all(self.socket, head + b"\r\n" + body)
        return close

    def _answer(self, response: Response) -> bool:
        """Write ``response``; True to go on with the connection."""
        headers = response.headers + [("Content-Length", str(len(response.body)))]
        return not self._respond(response.status_line, headers, response.body, False)

    # -- websockets ---------------------------------------------------------------------

    def _upgrade(self, app: WSGIApp, environ: Dict[str, Any], end: int) -> bool:
        """Vet a websocket request as ``SioWebSocketHandler`` does, answer 101 and let the
        websocket transport take the connection; True to go on with the connection (a
        refusal), False when it is over or taken."""
        check = self.server.websocket_check or app.check_websocket
        if check is not None:
            refusal = check(environ)
            if refusal is not None:
                self._buffer = self._buffer[end:]
                return self._answer(refusal)
        self._buffer = self._buffer[end:]
        version = environ.get("HTTP_SEC_WEBSOCKET_VERSION")
        if version not in _WEBSOCKET_VERSIONS:
            return self._answer(Response(400, [("Sec-WebSocket-Version",
                                                ", ".join(_WEBSOCKET_VERSIONS))],
                                         b"unsupported websocket version"))
        try:
            key = check_key(environ.get("HTTP_SEC_WEBSOCKET_KEY", ""))
        except WebSocketProtocolError as exc:
            return self._answer(Response(400, [], str(exc).encode("ascii", "replace")))
        upgraded = _Upgraded(environ, self._release)
        environ["wsgi.input"] = io.BytesIO()
        environ["wsgi.input_terminated"] = False
        environ["wsgi.websocket_version"] = version
        environ["wsgi.websocket"] = upgraded
        head = [b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: ", accept_key(key).encode("ascii")]
        deflate = environ.get(DEFLATE_KEY)
        if deflate is not None:
            head += [b"\r\nSec-WebSocket-Extensions: ", deflate.params.header().encode("ascii")]
        # the websocket transport sends the 101 with the open packet, in one write
        environ[UPGRADE_HEAD_KEY] = b"".join(head) + b"\r\n\r\n"
        for _ in app(environ, _no_start_response):
            pass
        unsent = environ.pop(UPGRADE_HEAD_KEY, None)
        if unsent is not None and not self._released:  # the transport never got that far
            _send_all(self.socket, unsent)
        return False

    def _release(self) -> Tuple[Any, bytes]:
        """Give the connection away for good: a socket object of its own for the
        descriptor, and the bytes read past the request."""
        old = self.socket
        sock = type(old)(old.family, old.type, old.proto, fileno=old.detach())
        pending, self._buffer = self._buffer, b""
        self._released = True
        self.socket = None
        return sock, pending

    # -- handing over to pywsgi ---------------------------------------------------------

    def _hand_over(self, start: float) -> None:
        """Let pywsgi's handler serve the rest of the connection, from the bytes read."""
        sock = self.socket
        sock.settimeout(None)
        rfile = None
        if self._buffer:
            rfile = io.BufferedReader(_Replay(self._buffer, sock.makefile("rb", 0)))
            self._buffer = b""
        handler = self.server.fallback_handler_class(sock, self.client_address, self.server,
                                                     rfile=rfile)
        handler.accepted_at(start)
        handler.handle()

    # -- small helpers ------------------------------------------------------------------

    def _send_quietly(self, data: bytes) -> None:
        try:
            self.socket.settimeout(1.0)  # a client that reads nothing gets nothing
            self.socket.sendall(data)
        except OSError:
            pass

    def _peer(self) -> str:
        return peer_host(self.client_address)

    def _log(self, method: str, url: str, status: str, length: int) -> None:
        level = logging.INFO if getattr(self.server, "log_requests", False) else logging.DEBUG
        if log.isEnabledFor(level):
            log.log(level, '%s - - [%s] "%s %s HTTP/1.1" %s %d', self._peer(),
                    _date().decode("latin-1"), method, url, status.split(" ", 1)[0], length)


class _FailingBody(io.RawIOBase):
    """``wsgi.input`` of a body that did not arrive: reads fail as pywsgi's reader's do."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self._reason = reason

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        raise OSError(self._reason)

    def readinto(self, buffer: Any) -> int:
        raise OSError(self._reason)


_TIMED_OUT = _FailingBody("request body not received within request_timeout")
_CUT_SHORT = _FailingBody("the client closed the connection mid-body")


def _no_delay(sock: Any, server: Any) -> None:
    """Nagle off for an accepted connection, with one ``setsockopt`` for all of them where
    the system lets accepted sockets inherit it from the listening socket (Linux does):
    set on the listener at the first connection, then looked for (``getsockopt``) on the
    next ones until one has it (those already queued when the listener got it have not),
    for ``_NO_DELAY_PROBES`` connections at most, else set per connection as before."""
    state = getattr(server, "lean_no_delay", None)
    if state is True:
        return
    try:
        if state is None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            server.lean_no_delay = 0
            listener = getattr(server, "socket", None)
            if listener is not None:
                listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                server.lean_no_delay = _NO_DELAY_PROBES
            return
        if state:  # probes left
            if sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY):
                server.lean_no_delay = True
                return
            server.lean_no_delay = state - 1
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:  # not TCP (a unix socket), or already closed
        pass


#: connections looked at for an inherited TCP_NODELAY before setting it on each one
_NO_DELAY_PROBES = 64


def _send_all(sock: Any, data: bytes) -> None:
    """``sendall`` without the ``getsockopt`` call gevent's makes per write
    (``bench/PROFILE.md``, item 3); ``send`` waits for the socket when it is full."""
    sent = sock.send(data)
    while sent < len(data):
        data = data[sent:]
        sent = sock.send(data)


def _released() -> Tuple[Any, bytes]:
    raise RuntimeError("the connection was handed over already")


def _no_write(data: bytes) -> None:
    raise RuntimeError("the lean HTTP path does not support write()")


def _no_start_response(status: str, headers: Any, exc_info: Any = None) -> Callable[..., None]:
    return _no_write
