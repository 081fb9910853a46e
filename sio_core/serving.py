"""Serving on gevent: pywsgi with a websocket handler that vets requests before the upgrade."""
from __future__ import annotations

import gc
import logging
import socket
from typing import Any, Callable, Optional

from gevent import pywsgi
from geventwebsocket.handler import WebSocketHandler

from .server import runtime
from .wsgi.responses import Response

__all__ = ["SioWebSocketHandler", "make_server", "run", "serve_forever", "find_websocket_check"]

log = logging.getLogger(__name__)

Check = Callable[[dict], Optional[Response]]


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
    a refusal is answered as a normal HTTP error. permessage-deflate is never offered.
    """

    def handle(self) -> None:
        """Serve the connection with Nagle off.

        pywsgi writes the headers and the body of a response in two sends; on a reused
        keep-alive connection the peer delays its ACK of the first and Nagle holds the
        second until then (~40 ms per long-polling request).
        """
        try:
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # not TCP (a unix socket) or already closed
            pass
        super().handle()

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
        return super().upgrade_websocket()

    def get_environ(self) -> Any:
        """The environ, plus the connection's socket (``sio_core.socket``) for the transports."""
        environ = super().get_environ()
        environ["sio_core.socket"] = self.socket
        return environ

    def finalize_headers(self) -> None:
        """Say ``Connection: close`` when closing after the response.

        pywsgi honours a request's ``Connection: close`` but does not announce it, so
        keep-alive clients (Node's agents) reuse a socket the server is closing.
        """
        super().finalize_headers()
        if self.close_connection and self.code != 101 and not any(
                name.lower() == b"connection" for name, _ in self.response_headers):
            self.response_headers.append((b"Connection", b"close"))

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
                **kwargs: Any) -> pywsgi.WSGIServer:
    """A gevent WSGI server for ``app`` with websockets.

    :param app: the WSGI application (``WSGIApp``, ``Middleware``, a Flask app...)
    :param host: interface to bind
    :param port: TCP port (0 picks a free one)
    :param websocket_check: pre-upgrade check; defaults to ``app.check_websocket`` if present
    :param log_output: log each request at INFO (else DEBUG)
    """
    runtime.set_hub_thread()
    server = pywsgi.WSGIServer(
        (host, port), app, handler_class=SioWebSocketHandler,
        log=None, error_log=_QuietLog(), **kwargs,
    )
    server.websocket_check = websocket_check or find_websocket_check(None, app)
    server.log_requests = log_output
    return server


def run(app: Any, host: str = "127.0.0.1", port: int = 5000, **kwargs: Any) -> None:
    """Serve ``app`` forever on ``host:port`` (blocks)."""
    runtime.check_monkey_patch("sio_core.serving.run")
    server = make_server(app, host, port, **kwargs)
    log.info("serving on http://%s:%d", host, server.server_port)
    serve_forever(server)


def serve_forever(server: pywsgi.WSGIServer) -> None:
    """Serve until stopped, with the objects of start-up out of the garbage collector's way.

    Everything alive now (modules, functions, the application) is moved out of the
    collected generations, so that full collections stay short: they would otherwise
    walk it all and stall every client (measured: the longest pause halves).
    """
    gc.collect()
    gc.freeze()
    server.serve_forever()
