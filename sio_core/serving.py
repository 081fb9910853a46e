"""Serving on gevent: pywsgi with a websocket handler that vets requests before the upgrade.

The handler also holds every connection to deadlines, as Node's http server does, so that
slow or silent clients cannot keep greenlets and descriptors forever: the request head
must arrive within ``headers_timeout``, the whole request (body included) within
``request_timeout``, and an idle keep-alive connection is closed after
``keepalive_timeout``. Waiting for a response (a long-polling GET) and upgraded
websockets are not subject to them.
"""
from __future__ import annotations

import dataclasses
import gc
import http.client
import logging
import math
import os
import socket
from typing import Any, Callable, Dict, Optional

from gevent import pywsgi
from geventwebsocket.handler import WebSocketHandler
from geventwebsocket.websocket import Stream

from . import lean_http, runtime
from .http import Response
from .transports.wsconn import DEFLATE_KEY, TakeableWebSocket
from .websocket import WebSocketProtocolError, accept_key, check_key

__all__ = ["SioWebSocketHandler", "make_server", "run", "serve_forever", "tune_gc",
           "SERVING_GC_THRESHOLD", "find_websocket_check", "app_timeouts",
           "HttpTimeouts", "TIMEOUT_KEYWORDS", "KEEPALIVE_GRACE", "HTTP_PARSER_ENV"]

log = logging.getLogger(__name__)

Check = Callable[[dict], Optional[Response]]

#: seconds an idle keep-alive connection is kept past the ``timeout=`` the server
#: announces (Node's buffer): a client honouring the announcement never sends on a
#: connection the server is closing
KEEPALIVE_GRACE = 1.0


@dataclasses.dataclass(frozen=True)
class HttpTimeouts:
    """Deadlines of the HTTP edge, in seconds (Node's http server defaults); 0 turns one off.

    :raises ValueError: on a negative or non-finite value, or a ``headers_timeout``
        longer than a ``request_timeout`` (the head is part of the request)
    """

    #: the request line and headers must have arrived by then, counted from the
    #: connection's accept for its first request, else from the request's first byte
    headers_timeout: float = 60.0
    #: the whole request, body included, must have arrived by then (counted likewise)
    request_timeout: float = 300.0
    #: an idle keep-alive connection is closed after this (plus ``KEEPALIVE_GRACE``)
    keepalive_timeout: float = 5.0

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None:
                value = 0.0
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value) or value < 0:
                raise ValueError("%s must be a number of seconds >= 0 (0 turns it off), "
                                 "not %r" % (field.name, value))
            object.__setattr__(self, field.name, float(value))
        if self.headers_timeout and self.request_timeout \
                and self.headers_timeout > self.request_timeout:
            raise ValueError("headers_timeout (%g) must not exceed request_timeout (%g)"
                             % (self.headers_timeout, self.request_timeout))


#: the ``make_server``/``run``/``Server`` keywords that set ``HttpTimeouts``
TIMEOUT_KEYWORDS = frozenset(field.name for field in dataclasses.fields(HttpTimeouts))

_DEFAULT_TIMEOUTS = HttpTimeouts()


class _TimedInput:
    """``wsgi.input`` whose reads fail once the request's deadline has passed.

    A read that can be served from what has already arrived never fails: the deadline
    bounds waiting for the client, not how late the application reads.
    """

    __slots__ = ("_input", "_handler", "_deadline")

    def __init__(self, wsgi_input: Any, handler: "SioWebSocketHandler", deadline: float) -> None:
        self._input = wsgi_input
        self._handler = handler
        self._deadline = deadline

    def _timed(self, method: Callable[..., Any], *args: Any) -> Any:
        timer = runtime.Timeout(max(self._deadline - runtime.monotonic(), 0.0))
        timer.start()
        try:
            return method(*args)
        except runtime.Timeout as exc:
            if exc is not timer:
                raise
            self._handler.request_timed_out()
            raise TimeoutError("request body not received within request_timeout") from None
        finally:
            timer.close()

    def read(self, length: Optional[int] = None) -> bytes:
        return self._timed(self._input.read, length)

    def readline(self, size: Optional[int] = None) -> bytes:
        return self._timed(self._input.readline, size)

    def readlines(self, hint: Optional[int] = None) -> list:
        return self._timed(self._input.readlines, hint)

    def __iter__(self) -> Any:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def _discard(self) -> None:  # pywsgi drains the unread body before the next request
        self._timed(self._input._discard)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._input, name)


def app_timeouts(app: Any) -> HttpTimeouts:
    """The deadlines ``app`` asks for: a ``Server``'s ``http_timeouts``, else Node's."""
    found = getattr(app, "http_timeouts", None)
    return found if isinstance(found, HttpTimeouts) else _DEFAULT_TIMEOUTS


def find_websocket_check(server: Any, application: Any) -> Optional[Check]:
    """The pre-upgrade check: the server's, the app's, or a Flask app's ``wsgi_app``'s."""
    check = getattr(server, "websocket_check", None)
    if check is None:
        check = getattr(application, "check_websocket", None)
    if check is None:
        check = getattr(getattr(application, "wsgi_app", None), "check_websocket", None)
    return check


class SioWebSocketHandler(WebSocketHandler):
    """gevent-websocket's handler, made to refuse bad websocket requests before the 101.

    The server's ``websocket_check(environ)`` runs first (origin, sid, ``allow_request``);
    a refusal is answered as a normal HTTP error. permessage-deflate is accepted when
    that check agreed it (``DEFLATE_KEY``: the server's ``per_message_deflate``).
    The server's ``http_timeouts`` (an ``HttpTimeouts``; Node's defaults without one)
    bound how long the client may take to send a request and to start the next one.
    """

    _accepted = 0.0
    _requests = 0
    _request_start = 0.0
    _head_timer: Any = None
    #: the request body pywsgi sets for each request (get_environ may hold it to a deadline)
    wsgi_input: Any

    @property
    def timeouts(self) -> HttpTimeouts:
        """The deadlines this connection is held to."""
        return getattr(self.server, "http_timeouts", None) or _DEFAULT_TIMEOUTS

    def handle(self) -> None:
        """Serve the connection with Nagle off.

        pywsgi writes the headers and the body of a response in two sends; on a reused
        keep-alive connection the peer delays its ACK of the first and Nagle holds the
        second until then (~40 ms per long-polling request).
        """
        if not self._accepted:
            self._accepted = runtime.monotonic()
        try:
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # not TCP (a unix socket) or already closed
            pass
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError) as exc:
            # pywsgi writes its own error answers (400 for a malformed head) with a bare
            # sendall: a client that has already gone is not a server error
            log.debug("client %s left before its answer was written: %s", self._peer(), exc)

    def accepted_at(self, when: float) -> None:
        """Time the first request's head from ``when`` (a connection handed over by
        ``sio_core.lean_http`` after it read part of a request) instead of from ``handle``."""
        self._accepted = when

    def handle_one_request(self) -> Any:
        """Read and answer one request, within the deadlines.

        The first request's head is timed from the accept; a later one's from its first
        byte, which must come within the keep-alive timeout. A head that misses its
        deadline is answered ``408`` (as Node does) and the connection closed.
        """
        if self.rfile.closed:
            return None
        timeouts = self.timeouts
        if self._requests:
            if not self._await_next_request(timeouts.keepalive_timeout):
                return None
            self._request_start = runtime.monotonic()
        else:
            self._request_start = self._accepted
        self._requests += 1
        if not timeouts.headers_timeout:
            return super().handle_one_request()
        timer = self._head_timer = runtime.Timeout(
            max(self._request_start + timeouts.headers_timeout - runtime.monotonic(), 0.0))
        timer.start()
        try:
            return super().handle_one_request()
        except runtime.Timeout as exc:
            if exc is not timer:
                raise
            log.debug("closing the connection of %s: no request head within "
                      "headers_timeout=%gs", self._peer(), timeouts.headers_timeout)
            self._send_request_timeout()
            return None
        finally:
            timer.close()
            self._head_timer = None

    def _await_next_request(self, idle: float) -> bool:
        """Wait for the next request's first byte; False when the connection is done."""
        if not idle:
            return True
        try:
            with runtime.Timeout(idle + KEEPALIVE_GRACE, False):
                self.rfile.peek(1)  # b"" at EOF: pywsgi then sees the end itself
                return True
        except (OSError, ValueError):  # reset, or closed under us
            return False
        log.debug("closing the idle keep-alive connection of %s after %gs",
                  self._peer(), idle + KEEPALIVE_GRACE)
        return False

    def read_request(self, raw_requestline: str) -> Any:
        """Parse the head; its deadline ends here, before the application runs.

        A head past ``http.client``'s limits (a header line over 64 KiB, more than 100
        headers), a version pywsgi cannot read (``HTTP/1``: an ``IndexError`` in it) or a
        connection that breaks while the head is read is a client error, answered 400
        without a traceback like the others.
        """
        try:
            return super().read_request(raw_requestline)
        except (http.client.HTTPException, IndexError, OSError) as exc:
            raise ValueError("malformed request head: %s" % exc) from None
        finally:
            if self._head_timer is not None:
                self._head_timer.close()

    def request_timed_out(self) -> None:
        """The body missed ``request_timeout``: answer ``408`` unless a response has
        begun, and close the connection whatever the application goes on to write."""
        log.info("closing the connection of %s: request not received within "
                 "request_timeout=%gs", self._peer(), self.timeouts.request_timeout)
        self.close_connection = True
        if not self.headers_sent:
            self._send_request_timeout()
        try:  # the application's own answer to the failed read now meets EPIPE, ignored
            self.socket.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _send_request_timeout(self) -> None:
        try:
            with runtime.Timeout(1.0, False):  # a client that reads nothing gets nothing
                self.socket.sendall(lean_http.REQUEST_TIMEOUT_RESPONSE)
        except OSError:
            pass

    def _peer(self) -> str:
        return lean_http.peer_host(self.client_address)

    def upgrade_websocket(self) -> Any:
        if self.environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            check = find_websocket_check(self.server, self.application)
            if check is not None:
                refusal = check(self.environ)
                if refusal is not None:
                    self.start_response(refusal.status_line, refusal.headers + [
                        ("Content-Length", str(len(refusal.body)))])
                    return [refusal.body]
            if self.request_version != "HTTP/1.1":
                self.start_response("400 Bad Request", [])
                return [b"websocket needs HTTP/1.1"]
        result = super().upgrade_websocket()
        if result:  # gevent-websocket's own refusals (426 without a version) are str
            result = [part.encode("latin-1") if isinstance(part, str) else part
                      for part in result]
        return result

    def upgrade_connection(self) -> Any:
        """Answer the handshake with 101 as gevent-websocket does, with a websocket object
        whose connection the application can take over (``TakeableWebSocket``: our
        transports then read and write the socket alone).
        """
        version = self.environ.get("HTTP_SEC_WEBSOCKET_VERSION")
        if version not in self.SUPPORTED_VERSIONS:
            self.start_response("400 Bad Request", [
                ("Sec-WebSocket-Version", ", ".join(self.SUPPORTED_VERSIONS))])
            return [b"unsupported websocket version"]
        try:
            key = check_key(self.environ.get("HTTP_SEC_WEBSOCKET_KEY", ""))
        except WebSocketProtocolError as exc:
            self.start_response("400 Bad Request", [])
            return [str(exc).encode("ascii", "replace")]
        self.websocket = TakeableWebSocket(self.environ, Stream(self), self)
        self.environ["wsgi.websocket_version"] = version
        self.environ["wsgi.websocket"] = self.websocket
        headers = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                   ("Sec-WebSocket-Accept", accept_key(key))]
        deflate = self.environ.get(DEFLATE_KEY)
        if deflate is not None:
            headers.append(("Sec-WebSocket-Extensions", deflate.params.header()))
        self.start_response("101 Switching Protocols", headers)
        return None

    def get_environ(self) -> Any:
        """The environ, plus the connection's socket (``sio_core.socket``) for the transports.

        A request with a body gets a ``wsgi.input`` held to ``request_timeout``.
        """
        environ = super().get_environ()
        environ["sio_core.socket"] = self.socket
        limit = self.timeouts.request_timeout
        body = self.content_length or self.wsgi_input.chunked_input
        if limit and body and environ["wsgi.input"] is self.wsgi_input:
            self.wsgi_input = environ["wsgi.input"] = _TimedInput(
                self.wsgi_input, self, self._request_start + limit)
        return environ

    def finalize_headers(self) -> None:
        """Say ``Connection: close`` when closing after the response, else how long the
        connection stays open (``Keep-Alive: timeout=``, as Node does).

        pywsgi honours a request's ``Connection: close`` but does not announce it, so
        keep-alive clients (Node's agents) reuse a socket the server is closing.
        """
        super().finalize_headers()
        if self.code == 101:
            return
        names = {name.lower() for name, _ in self.response_headers}
        if self.close_connection:
            if b"connection" not in names:
                self.response_headers.append((b"Connection", b"close"))
        elif self.timeouts.keepalive_timeout >= 1 and b"keep-alive" not in names:
            self.response_headers.append(
                (b"Keep-Alive", b"timeout=%d" % int(self.timeouts.keepalive_timeout)))

    def log_request(self) -> None:
        """One line per request: at INFO with ``log_output``, else at DEBUG."""
        level = logging.INFO if getattr(self.server, "log_requests", False) else logging.DEBUG
        if log.isEnabledFor(level) and "101" not in str(self.status):
            log.log(level, self.format_request())


class _QuietLog:
    def write(self, data: str) -> None:
        log.debug(data.rstrip())


def make_server(app: Any, host: str = "127.0.0.1", port: int = 5000,
                websocket_check: Optional[Check] = None, log_output: bool = False,
                headers_timeout: Optional[float] = None,
                request_timeout: Optional[float] = None,
                keepalive_timeout: Optional[float] = None,
                http_parser: Optional[str] = None,
                **kwargs: Any) -> pywsgi.WSGIServer:
    """A gevent WSGI server for ``app`` with websockets.

    The three timeouts default to ``app.http_timeouts`` (a ``Server``'s), else to
    Node's (60 s, 300 s, 5 s); 0 turns one off. See ``HttpTimeouts``.

    ``http_parser`` chooses who reads the Engine.IO requests: ``"httptools"`` the lean
    path of ``sio_core.lean_http`` (pywsgi still serves every other request),
    ``"pywsgi"`` pywsgi alone, ``"auto"`` the lean path when ``httptools`` is installed.
    Without it, the ``SIO_HTTP_PARSER`` environment variable, else ``"auto"``.

    :param app: the WSGI application (``WSGIApp``, ``Middleware``, a Flask app...)
    :param host: interface to bind
    :param port: TCP port (0 picks a free one)
    :param websocket_check: pre-upgrade check; defaults to ``app.check_websocket`` if present
    :param log_output: log each request at INFO (else DEBUG)
    :param headers_timeout: seconds for a request's line and headers to arrive
    :param request_timeout: seconds for a whole request, body included, to arrive
    :param keepalive_timeout: seconds an idle keep-alive connection is kept
    :param http_parser: ``"auto"``, ``"httptools"`` or ``"pywsgi"`` (see above)
    :param kwargs: gevent ``WSGIServer`` keywords (``backlog``, ``certfile``...)
    :raises ValueError: on an invalid timeout or ``http_parser``
    :raises ImportError: ``http_parser="httptools"`` without ``httptools`` installed
    """
    given = {"headers_timeout": headers_timeout, "request_timeout": request_timeout,
             "keepalive_timeout": keepalive_timeout}
    timeouts = dataclasses.replace(app_timeouts(app),
                                   **{k: v for k, v in given.items() if v is not None})
    lean_app = _lean_app(app, http_parser, kwargs)
    runtime.set_hub_thread()
    handler_class: Any = SioWebSocketHandler if lean_app is None else lean_http.LeanHandler
    server = pywsgi.WSGIServer(
        (host, port), app, handler_class=handler_class,
        log=None, error_log=_QuietLog(), **kwargs,
    )
    server.websocket_check = websocket_check or find_websocket_check(None, app)
    server.log_requests = log_output
    server.http_timeouts = timeouts
    # what the lean path needs of this module (it does not import it)
    server.lean_app = lean_app
    server.fallback_handler_class = SioWebSocketHandler
    server.keepalive_grace = KEEPALIVE_GRACE
    return server


#: the environment variable read when ``make_server`` is given no ``http_parser``
HTTP_PARSER_ENV = "SIO_HTTP_PARSER"


def _lean_app(app: Any, http_parser: Optional[str], kwargs: Dict[str, Any]) -> Any:
    """The ``WSGIApp`` the lean path serves for ``app``, or None for pywsgi alone."""
    choice = http_parser or os.environ.get(HTTP_PARSER_ENV) or "auto"
    if choice not in lean_http.HTTP_PARSERS:
        raise ValueError("http_parser must be one of %s, not %r"
                         % (", ".join(lean_http.HTTP_PARSERS), choice))
    if choice == "pywsgi":
        return None
    if not lean_http.lean_available():
        if choice == "httptools":
            raise ImportError("http_parser='httptools' needs httptools: "
                              "pip install 'flask-sio[http]'")
        return None
    if "handler_class" in kwargs or any(key in kwargs for key in _TLS_KEYWORDS):
        return None  # TLS, or a handler of the caller's: pywsgi serves everything
    found = lean_http.find_engine_app(app)
    if found is None:
        log.debug("the lean HTTP path does not know how %r reaches its Engine.IO app: "
                  "pywsgi serves everything", app)
    return found


_TLS_KEYWORDS = ("ssl_context", "keyfile", "certfile")


def run(app: Any, host: str = "127.0.0.1", port: int = 5000, **kwargs: Any) -> None:
    """Serve ``app`` forever on ``host:port`` (blocks).

    :param kwargs: ``make_server`` keywords: ``headers_timeout``, ``request_timeout``,
        ``keepalive_timeout``, ``http_parser``, ``log_output``, gevent ``WSGIServer`` keywords
    """
    runtime.check_monkey_patch("sio_core.serving.run")
    server = make_server(app, host, port, **kwargs)
    log.info("serving on http://%s:%d", host, server.server_port)
    serve_forever(server)


#: the garbage collector's first threshold while serving, at least (CPython's default: 700
#: before 3.13, 2,000 after)
SERVING_GC_THRESHOLD = 10_000


def tune_gc() -> None:
    """Make full garbage collections rare and short for a long-running server.

    Everything alive now (modules, functions, the application) is moved out of the
    collected generations, so that a full collection does not walk it all and stall every
    client (measured: the longest pause halves). The first threshold is raised to
    ``SERVING_GC_THRESHOLD`` (a higher one of the program's own is kept): a full collection,
    which walks every connection's objects, is considered once per hundred young ones, so at
    the default a server taking on connections ran one for each quarter it grew (six, 0.8 s in
    all, while it took on 19,000 websockets), and websocket set-up cost a third more CPU
    (bench/PROFILE.md). A disabled collector stays disabled.
    """
    gc.collect()
    gc.freeze()
    first, second, third = gc.get_threshold()
    if first < SERVING_GC_THRESHOLD:
        gc.set_threshold(SERVING_GC_THRESHOLD, second, third)


def serve_forever(server: pywsgi.WSGIServer) -> None:
    """Serve until stopped, with the garbage collector tuned for it (``tune_gc``)."""
    tune_gc()
    server.serve_forever()
