"""WSGIApp: the Engine.IO server as a WSGI application.

It turns each request into a ``Request``, checks it (path, query, origin,
``allow_request``), and hands it to the polling or websocket transport with what
that transport needs from the WSGI server (the body stream, the client's socket);
nothing below this module reads the environ. No exception ever reaches the WSGI
server: refusals become the spec's JSON errors, and anything unexpected is logged
and answered with a 500.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Iterable, Optional

from ..engineio import (
    BadHandshakeMethod,
    BadRequest,
    EngineQuery,
    Forbidden,
    OriginPolicy,
    RequestError,
    SessionUnknown,
    parse_query,
)
from ..http import Request, Response, error_response, not_found
from ..server.engine import EngineServer
from ..transports import polling
from ..transports.websocket import agree_deflate, serve_websocket
from ..transports.wsconn import WebSocket

__all__ = ["WSGIApp", "peer_socket", "PEER_SOCKET_KEY", "REQUEST_KEY"]

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]

#: the environ key under which ``sio_core.serving``'s handler puts the client's socket
PEER_SOCKET_KEY = "sio_core.socket"
#: the environ key of the ``Request`` read before the application runs (by the serving
#: edge, or by ``check_websocket``), which ``WSGIApp`` takes instead of reading it again
REQUEST_KEY = "sio_core.request"


def peer_socket(environ: Dict[str, Any]) -> Any:
    """The client's socket of this request, or None where the WSGI server hides it.

    ``sio_core.serving`` puts it under ``PEER_SOCKET_KEY``; under another gevent pywsgi
    handler (gevent-websocket's gunicorn worker) it is the one under ``wsgi.input``'s
    reader.
    """
    sock = environ.get(PEER_SOCKET_KEY)
    if sock is None:
        rfile = getattr(environ.get("wsgi.input"), "rfile", None)
        sock = getattr(getattr(rfile, "raw", None), "_sock", None)
    return sock


class WSGIApp:
    """Serve an ``EngineServer`` over WSGI under ``path``.

    :param engine: the Engine.IO server
    :param path: URL path prefix (default ``/socket.io``)
    :param origins: origin policy spec: None (same origin), ``'*'``, a string, list or callable
    :param allow_request: ``fn(environ) -> bool`` deciding whether to accept a request
    :param cors_credentials: allow credentials in cross-origin requests
    :param static: ``fn(request, environ) -> Response | None`` serving files under ``path``
    """

    def __init__(
        self,
        engine: EngineServer,
        path: str = "/socket.io",
        origins: Any = None,
        allow_request: Optional[Callable[[Dict[str, Any]], bool]] = None,
        cors_credentials: bool = True,
        static: Optional[Callable[[Request, Dict[str, Any]], Optional[Response]]] = None,
    ) -> None:
        self.engine = engine
        self.path = "/" + path.strip("/")
        self.origin_policy = OriginPolicy(origins, cors_credentials)
        self.allow_request = allow_request
        self.static = static
        self._refused_origins: set = set()

    def set_origins(self, origins: Any) -> None:
        """Replace the origin policy."""
        self.origin_policy = OriginPolicy(origins, self.origin_policy.credentials)

    def handles(self, path: str) -> bool:
        """Whether ``path`` (a ``PATH_INFO``) is under this app's path."""
        return path == self.path or path.startswith(self.path + "/")

    # -- checks shared by polling and the websocket handshake ------------------------

    def _check_origin(self, req: Request) -> None:
        if self.origin_policy.allows(req.origin, req.host, req.scheme):
            return
        if req.origin not in self._refused_origins:
            self._refused_origins.add(req.origin)
            log.warning(
                "refused a request from origin %s (server host %s). To allow it, pass "
                "origins=[%r] (or origins='*' to allow any origin).",
                req.origin, req.host, req.origin,
            )
        raise Forbidden("Origin %s is not allowed" % req.origin)

    def check(self, req: Request, environ: Dict[str, Any]) -> EngineQuery:
        """Validate a request for the engine (not the static files).

        :raises RequestError: with the code to answer
        """
        query = parse_query(req.query, self.engine.options.transports)
        self._check_origin(req)
        if query.sid is None and self.allow_request is not None:
            if not self.allow_request(environ):
                raise Forbidden()
        if query.transport == "websocket":
            if not req.websocket:
                raise BadRequest("websocket transport without an Upgrade header")
            if query.sid is not None:
                if self.engine.get(query.sid) is None:
                    raise SessionUnknown()
                # a session that cannot upgrade (already upgraded, upgrading) gets its
                # websocket accepted and closed at once, as the reference server does
        elif req.websocket:
            raise BadRequest("a websocket upgrade needs transport=websocket")
        elif query.sid is None and req.method != "GET":
            raise BadHandshakeMethod()
        return query

    def check_websocket(self, environ: Dict[str, Any]) -> Optional[Response]:
        """Called by the serving edge before it answers a websocket upgrade with 101.

        :returns: None to accept, or the refusal to send instead
        """
        req = environ.get(REQUEST_KEY) or Request.from_environ(environ)
        if not self.handles(req.path):
            return None
        environ[REQUEST_KEY] = req  # read once: ``_handle`` takes it back
        try:
            self.check(req, environ)
        except RequestError as exc:
            return error_response(exc)
        agree_deflate(environ, self.engine)
        return None

    # -- WSGI --------------------------------------------------------------------------

    def __call__(self, environ: Dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            response = self._handle(environ)
        except RequestError as exc:
            log.debug("refused %s %s: %s", environ.get("REQUEST_METHOD"),
                      environ.get("QUERY_STRING"), exc.detail)
            response = error_response(exc)
            if environ.get("wsgi.websocket") is not None:
                # upgraded before we could refuse (a stock gevent-websocket worker): close it
                # unused, with a proper close frame (status code first)
                ws = WebSocket.from_environ(environ, 125)
                ws.close(1008)
                ws.shutdown()  # gevent-websocket's own close frame must not follow
                return []
            origin = environ.get("HTTP_ORIGIN")
            if origin and not isinstance(exc, Forbidden):
                response = response.with_headers(self.origin_policy.headers(origin))
        except Exception:
            log.exception("internal error serving %s %s?%s", environ.get("REQUEST_METHOD"),
                          environ.get("PATH_INFO"), environ.get("QUERY_STRING"))
            response = Response(500, [("Content-Type", "text/plain")], b"Internal Server Error")
        if response is None:  # a websocket that was served
            return []
        headers = response.headers + [("Content-Length", str(len(response.body)))]
        start_response(response.status_line, headers)
        return [response.body]

    def _handle(self, environ: Dict[str, Any]) -> Optional[Response]:
        req = environ.pop(REQUEST_KEY, None) or Request.from_environ(environ)
        if not self.handles(req.path):
            return not_found()
        if self.static is not None and req.path.rstrip("/") != self.path:
            found = self.static(req, environ)
            if found is not None:
                return found
        if req.method == "OPTIONS":
            self._check_origin(req)
            return Response(204, self.origin_policy.preflight_headers(
                req.origin, req.request_headers), b"")
        query = self.check(req, environ)  # a handshake by any other method than GET: code 2
        if query.transport == "websocket":
            if environ.get("wsgi.websocket") is None:
                raise BadRequest("the WSGI server did not upgrade this websocket request; "
                                 "serve with sio_core.serving.run or the gevent-websocket worker")
            serve_websocket(self.engine, query, environ, req)
            return None
        response = self._polling(req, query, environ)
        return response.with_headers(self.origin_policy.headers(req.origin))

    def _polling(self, req: Request, query: EngineQuery, environ: Dict[str, Any]) -> Response:
        engine = self.engine
        if query.sid is None:
            opened = engine.open(query, environ, req)
            response = polling.handle_get(opened, query, req, peer_socket(environ))
            cookie = engine.options.cookie
            if cookie is not None:
                response = response.with_headers([("Set-Cookie", cookie.header(opened.sid))])
            return response
        conn = engine.get(query.sid)
        if conn is None:
            raise SessionUnknown()
        if conn.version != query.version:
            raise BadRequest("EIO=%d does not match the session's" % query.version)
        if req.method == "GET":
            return polling.handle_get(conn, query, req, peer_socket(environ))
        if req.method == "POST":
            return polling.handle_post(conn, query, req, environ["wsgi.input"])
        raise BadRequest("method %s not allowed" % req.method)
