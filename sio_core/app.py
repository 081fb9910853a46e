"""Server: the socket.io server API, served over WSGI or on a port of its own."""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Iterable, Optional, Union

from . import debug, runtime
from .adapter import MemoryAdapter
from .admin import AuthOption, Instrumentation, instrument
from .engineio import EngineOptions
from .server.clock import Clock
from .server.core import ServerCore
from .server.engine import EngineServer
from .serving import HttpTimeouts
from .wsgi.app import WSGIApp
from .wsgi.client_bundle import serve_bundle
from .wsgi.middleware import Middleware

__all__ = ["Server", "werkzeug_request"]

log = logging.getLogger(__name__)

_ENGINE_KEYS = set(EngineOptions.__dataclass_fields__) - {"extra"}


def werkzeug_request(environ: Dict[str, Any]) -> Any:
    """The handshake's environ as a werkzeug ``Request`` (``Socket.request``)."""
    from werkzeug.wrappers import Request  # only for applications that ask for one

    return Request(environ)


class Server(ServerCore):
    """A Socket.IO server (the socket.io ``Server`` API in snake_case).

    ``Server()`` stands alone (attach it later), ``Server(wsgi_app)`` wraps a WSGI
    application (the server is then itself a WSGI app), ``Server(3000)`` listens on
    port 3000 right away (call ``serve_forever()`` to block).

    :param app_or_port: a WSGI app to wrap, a port to listen on, or None
    :param path: URL path (default ``/socket.io``)
    :param serve_client: serve the browser client at ``<path>/socket.io.js``
    :param adapter: adapter class/factory, or a template adapter such as
        ``RedisAdapter(url=...)`` copied per namespace (default ``MemoryAdapter``)
    :param origins: allowed origins: None (same origin), ``'*'``, a string, list or callable
    :param json: JSON module/object with ``dumps``/``loads``
    :param connect_timeout: seconds before a client with no namespace is closed
    :param allow_request: ``fn(environ) -> bool`` vetting handshakes
    :param cors_credentials: allow credentials in cross-origin requests
    :param generate_id: ``fn(environ) -> str`` for Engine.IO session ids
    :param headers_timeout: seconds for a request's line and headers to arrive when this
        server listens (``listen``, ``Server(port)``, ``sio_core.run(server)``); 0: none
    :param request_timeout: seconds for a whole request, body included, to arrive
    :param keepalive_timeout: seconds an idle keep-alive connection is kept
    :param clock: where the heartbeat, connect timeout and ack deadlines read the time and
        arm their timers (default: the event loop's ``Clock``; tests pass one they move)
    :param logger: trace the Socket.IO connections and packets (``SIO_DEBUG=socket,packets``):
        ``True`` to stderr (or the application's logging), or to a ``logging.Logger``;
        process-wide, see ``sio_core.debug``
    :param engineio_logger: the same for the Engine.IO sessions and packets
        (``SIO_DEBUG=engine,packets``)
    :param engine_options: ``ping_interval``, ``ping_timeout``, ``max_http_buffer_size``,
        ``transports``, ``allow_upgrades``, ``upgrade_timeout``, ``cookie``,
        ``http_compression``, ``compression_threshold``, ``max_queue``,
        ``per_message_deflate`` (websocket compression: False, True or a dict of
        ``sio_core.websocket.DeflateOptions`` fields, see README "permessage-deflate")
    """

    request_factory = staticmethod(werkzeug_request)

    def __init__(self, app_or_port: Union[None, int, Callable[..., Any]] = None, *,
                 path: str = "/socket.io", serve_client: bool = True,
                 adapter: Any = MemoryAdapter, origins: Any = None, json: Any = None,
                 connect_timeout: float = 45.0,
                 connection_state_recovery: Any = None,
                 allow_request: Optional[Callable[[Dict[str, Any]], bool]] = None,
                 cors_credentials: bool = True,
                 generate_id: Optional[Callable[[Any], str]] = None,
                 host: str = "127.0.0.1",
                 headers_timeout: float = HttpTimeouts.headers_timeout,
                 request_timeout: float = HttpTimeouts.request_timeout,
                 keepalive_timeout: float = HttpTimeouts.keepalive_timeout,
                 clock: Optional[Clock] = None,
                 logger: debug.LoggerOption = False,
                 engineio_logger: debug.LoggerOption = False,
                 **engine_options: Any) -> None:
        unknown = set(engine_options) - _ENGINE_KEYS
        if unknown:
            raise TypeError("unknown Server option(s): %s" % ", ".join(sorted(unknown)))
        debug.enable_from_options(logger, engineio_logger)
        #: deadlines of the HTTP edge when this server listens (see ``sio_core.serving``)
        self.http_timeouts = HttpTimeouts(headers_timeout, request_timeout, keepalive_timeout)
        engine = EngineServer(EngineOptions(**engine_options), generate_id=generate_id,
                              clock=clock)
        super().__init__(engine, adapter=adapter, json=json, connect_timeout=connect_timeout,
                         connection_state_recovery=connection_state_recovery)
        self._serve_client = serve_client
        self.wsgi_app = WSGIApp(engine, path, origins, allow_request, cors_credentials,
                                static=self._static)
        self._middleware = Middleware(self.wsgi_app, None)
        self.http_server: Any = None
        if isinstance(app_or_port, int) and not isinstance(app_or_port, bool):
            self.listen(app_or_port, host)
        elif app_or_port is not None:
            self.attach(app_or_port)

    # -- getters/setters in socket.io's style -----------------------------------------

    def path(self, value: Optional[str] = None) -> Any:
        """Get the path, or set it (before serving)."""
        if value is None:
            return self.wsgi_app.path
        self.wsgi_app.path = "/" + value.strip("/")
        return self

    def origins(self, value: Any = None) -> Any:
        """Get the origins policy spec, or set it (string, list, ``'*'`` or ``fn(origin)``)."""
        if value is None:
            return self.wsgi_app.origin_policy.spec
        self.wsgi_app.set_origins(value)
        return self

    def serve_client(self, value: Optional[bool] = None) -> Any:
        """Get or set whether the client bundle is served."""
        if value is None:
            return self._serve_client
        self._serve_client = bool(value)
        return self

    def _static(self, req: Any, environ: Dict[str, Any]) -> Any:
        return serve_bundle(req, self.wsgi_app.path, environ, enabled=self._serve_client)

    # -- attaching and serving ------------------------------------------------------------

    def attach(self, target: Union[int, Callable[..., Any]], host: str = "127.0.0.1") -> "Server":
        """Wrap a WSGI app (requests outside ``path`` go to it) or listen on a port."""
        if isinstance(target, bool) or not (isinstance(target, int) or callable(target)):
            raise TypeError("attach() takes a port or a WSGI app, not %r" % (target,))
        if isinstance(target, int):
            return self.listen(target, host)
        self._middleware = Middleware(self.wsgi_app, target)
        return self

    def listen(self, port: int, host: str = "127.0.0.1") -> "Server":
        """Start serving on ``host:port`` in the background (``serve_forever`` blocks)."""
        from .serving import make_server

        runtime.check_monkey_patch("Server.listen")
        self.http_server = make_server(self, host, port)
        self.http_server.start()
        log.info("Socket.IO listening on http://%s:%d%s", host, self.http_server.server_port,
                 self.wsgi_app.path)
        return self

    @property
    def port(self) -> Optional[int]:
        """The port listened on, if listening."""
        return self.http_server.server_port if self.http_server is not None else None

    def serve_forever(self) -> None:
        """Block while the server listens."""
        if self.http_server is None:
            raise RuntimeError("not listening: call listen(port) first")
        from .serving import serve_forever

        serve_forever(self.http_server)

    def bind(self, engine: EngineServer) -> "Server":
        """Serve on another Engine.IO server: its sessions get the requests and ``close()``."""
        super().bind(engine)
        self.wsgi_app.engine = engine
        return self

    def check_websocket(self, environ: Dict[str, Any]) -> Any:
        """Pre-upgrade websocket check (used by the serving edge)."""
        return self.wsgi_app.check_websocket(environ)

    def __call__(
        self, environ: Dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        return self._middleware(environ, start_response)

    def instrument(self, auth: AuthOption, mode: str = "development", read_only: bool = False,
                   namespace: str = "/admin", server_id: Optional[str] = None,
                   stats_interval: float = 2.0) -> Instrumentation:
        """Serve the namespace the ``@socket.io/admin-ui`` dashboard connects to.

        :param auth: False, or ``{"type": "basic", "username": ..., "password": <bcrypt
            hash>}`` (needs the ``bcrypt`` package)
        :param mode: ``"development"`` (sockets, rooms and events live) or ``"production"``
        :param read_only: refuse the dashboard's actions (disconnect, join, leave, emit)
        :param namespace: the dashboard's namespace
        :param server_id: this node's name in the dashboard (default: host name and pid)
        :param stats_interval: seconds between two ``server_stats`` of this node
        :returns: the ``sio_core.admin.Instrumentation``
        """
        return instrument(self, auth, mode=mode, read_only=read_only, namespace=namespace,
                          server_id=server_id, stats_interval=stats_interval)

    def close(self, callback: Optional[Callable[[], Any]] = None) -> None:
        """Disconnect everyone (``server shutting down``), stop listening, then ``callback()``."""
        self.close_sockets()
        if self.http_server is not None:
            # polling clients come back for their close packet within moments
            self.engine.wait_delivered(timeout=min(2.0, self.engine.options.ping_timeout))
            self.http_server.stop(timeout=1)
        if callback is not None:
            callback()
