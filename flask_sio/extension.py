"""SocketIO: the Flask extension object."""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import flask

from sio_core import Server, runtime

from .config import read_options, server_options, wire_loggers
from .context import in_handler_context
from .dispatch import Dispatcher
from .handler import Handler, HandlerTable, Registered, event_values
from .state import State, state_of

__all__ = ["SocketIO"]

log = logging.getLogger(__name__)

#: the message queue channel when none is given (Flask-SocketIO's)
_CHANNEL = "flask-socketio"


def _queue_of(options: Dict[str, Any]) -> Optional[Tuple[str, str]]:
    """(message queue URL, channel) from ``message_queue`` or a python-socketio
    ``client_manager`` that names one (its ``redis_url`` or ``url``), else None."""
    manager = options.get("client_manager")
    if manager is not None:
        url = getattr(manager, "redis_url", None) or getattr(manager, "url", None)
        if not url:  # python-socketio's in-process manager: what MemoryAdapter does
            return None
        return url, getattr(manager, "channel", None) or options.get("channel", _CHANNEL)
    if options.get("message_queue"):
        return options["message_queue"], options.get("channel", _CHANNEL)
    return None


class SocketIO:
    """Socket.IO for a Flask application.

    :param app: the Flask app (or call ``init_app`` later)
    :param options: sio_core options (``path``/``resource``, ``cors_allowed_origins``/
        ``origins``, ``cors_credentials``, ``ping_interval``, ``ping_timeout``,
        ``max_http_buffer_size``, ``allow_upgrades``, ``http_compression``,
        ``compression_threshold``, ``cookie``, ``transports``, ``serve_client``, ``json``,
        ``connect_timeout``, ``max_queue``, ``upgrade_timeout``...) and Flask-SocketIO's
        (``message_queue``, ``channel``, ``client_manager``, ``write_only``,
        ``manage_session``, ``always_connect``, ``namespaces``, ``logger``,
        ``engineio_logger``, ``async_mode``); ``SOCKETIO_*`` config keys fill the gaps.
        ``async_handlers`` and ``monitor_clients`` are accepted but not honoured
        (``IgnoredOptionWarning``).
    """

    def __init__(self, app: Optional[flask.Flask] = None, **options: Any) -> None:
        self._options = options
        # the handlers registered, shared by the dispatchers of every app
        self._handlers = HandlerTable()
        self._states: List[State] = []
        #: (message queue URL, channel) when emits go to the queue only
        self._write_only: Optional[Tuple[str, str]] = None
        if app is not None:
            self.init_app(app)

    # -- wiring into an app ----------------------------------------------------------------

    def init_app(self, app: flask.Flask, **options: Any) -> None:
        """Attach to ``app``: wraps ``app.wsgi_app`` so ``path`` is served by Socket.IO.

        With ``write_only=True`` nothing is served: ``emit``/``send`` publish to the
        ``message_queue`` for the servers of the cluster to deliver.

        :raises RuntimeError: when ``app`` already has a SocketIO
        :raises ValueError: ``write_only`` without a ``message_queue``
        """
        if "socketio" in app.extensions:
            raise RuntimeError("this Flask app already has a SocketIO extension")
        merged = dict(self._options)
        merged.update(options)
        merged = read_options(app.config, merged)
        sio_options = server_options(merged)
        wire_loggers(merged)
        queue = _queue_of(merged)
        if merged.get("write_only"):
            if queue is None:
                raise ValueError("write_only=True needs a message_queue to write to")
            self._write_only = queue
            app.extensions["socketio"] = self
            return
        if queue is not None:
            from .queue import adapter_for_url

            sio_options["adapter"] = adapter_for_url(*queue)
        server = Server(**sio_options)
        dispatcher = Dispatcher(app, server, self._handlers,
                                manage_session=bool(merged.get("manage_session", True)),
                                always_connect=bool(merged.get("always_connect")))
        state = State(self, app, server, dispatcher)
        app.extensions["socketio"] = state
        self._states.append(state)
        server.attach(app.wsgi_app)
        app.wsgi_app = server  # type: ignore[method-assign]
        namespaces = merged.get("namespaces")
        for namespace in [namespaces] if isinstance(namespaces, str) else namespaces or ():
            dispatcher.bind(namespace)  # accepted even without handlers
        for namespace in self._handlers.namespace_names():
            dispatcher.bind(namespace)

    #: the asynchronous model, as Flask-SocketIO reports it: always gevent here
    async_mode = "gevent"

    @property
    def manage_session(self) -> bool:
        """Whether handlers get a session of their own, kept with the Socket.IO
        connection (Flask-SocketIO's attribute; setting it applies to the next event)."""
        if self._states:
            return self._state().dispatcher.manage_session
        return bool(self._options.get("manage_session", True))

    @manage_session.setter
    def manage_session(self, value: bool) -> None:
        for state in self._states:
            state.dispatcher.manage_session = bool(value)
        self._options["manage_session"] = bool(value)

    @property
    def server(self) -> Server:
        """The sio_core server of the current (or only) app."""
        return self._state().server

    def _state(self) -> State:
        if flask.has_app_context():
            state = flask.current_app.extensions.get("socketio")
            if isinstance(state, State) and state.extension is self:
                return state
        if len(self._states) == 1:
            return self._states[0]
        if not self._states:
            raise RuntimeError("SocketIO is not attached to an app: call init_app(app)")
        raise RuntimeError("several apps use this SocketIO: call it inside an app context")

    # -- registering handlers -------------------------------------------------------------

    def on_event(self, event: str, handler: Handler, namespace: Optional[str] = None) -> None:
        """Register ``handler`` for ``event`` in ``namespace``.

        ``event="*"`` catches the events without a handler of their own (the handler
        gets the event name first); ``namespace="*"`` catches events of namespaces
        without a handler for them and admits connections to any namespace
        (``flask.request.namespace`` tells which).
        """
        namespace = namespace or "/"
        self._handlers.events.setdefault(namespace, {})[event] = Registered(handler)
        self._handlers.changed()
        self._bind(namespace)

    def on(self, event: str, namespace: Optional[str] = None) -> Callable[[Handler], Handler]:
        """Decorator registering a handler for ``event``."""
        def decorator(handler: Handler) -> Handler:
            self.on_event(event, handler, namespace)
            return handler
        return decorator

    def event(self, handler: Optional[Handler] = None, namespace: Optional[str] = None) -> Any:
        """Decorator registering a handler for the event named like the function."""
        if handler is None:
            return lambda fn: self.event(fn, namespace)
        self.on_event(handler.__name__, handler, namespace)
        return handler

    def on_error(self, namespace: Optional[str] = None) -> Callable[[Handler], Handler]:
        """Decorator for the error handler of ``namespace``: ``fn(exc)``."""
        def decorator(handler: Handler) -> Handler:
            self._handlers.error_handlers[namespace or "/"] = handler
            self._handlers.changed()
            return handler
        return decorator

    def on_error_default(self, handler: Handler) -> Handler:
        """Decorator for the error handler of namespaces without their own."""
        self._handlers.default_error_handler = handler
        self._handlers.changed()
        return handler

    def on_namespace(self, namespace_handler: Any) -> None:
        """Register a class-based ``Namespace`` instance."""
        namespace_handler._set_socketio(self)
        self._handlers.namespaces[namespace_handler.namespace] = namespace_handler
        self._handlers.changed()
        self._bind(namespace_handler.namespace)

    def _bind(self, namespace: str) -> None:
        """Serve ``namespace`` on every app attached so far (later ones bind at init)."""
        for state in self._states:
            state.dispatcher.bind(namespace)

    # -- emitting from anywhere -----------------------------------------------------------

    def emit(self, event: str, *args: Any, to: Union[None, str, List[str]] = None,
             room: Union[None, str, List[str]] = None, include_self: bool = True,
             skip_sid: Union[None, str, List[str]] = None, namespace: Optional[str] = None,
             callback: Optional[Handler] = None, broadcast: bool = True,
             ignore_queue: bool = False) -> None:
        """Emit ``event`` to a room, a socket id, or everyone in ``namespace``.

        A lone tuple argument is sent as several arguments, as in Flask-SocketIO.
        Without an app but with ``message_queue`` (or with ``write_only=True``), it
        publishes to the cluster.

        :param to: room(s) or socket id(s); everyone in ``namespace`` when None
        :param room: older name of ``to``
        :param include_self: False leaves out the current socket (inside a handler)
        :param skip_sid: socket id(s) to leave out
        :param namespace: the namespace (default ``/``)
        :param callback: ``fn(*values)`` for the client's ack (one recipient only)
        :param broadcast: accepted for Flask-SocketIO's sake: an emit from the server
            goes to every recipient ``to`` names either way
        :param ignore_queue: with a message queue, deliver to this process's clients
            only, without publishing
        :raises ValueError: ``callback`` with several recipients, or without a server
        """
        args = event_values(args)
        target = to if to is not None else room
        queue = self._write_only or (None if self._states else _queue_of(self._options))
        if queue is not None:
            if callback is not None:
                raise ValueError("callbacks need a server: a write-only SocketIO has none")
            self._emit_write_only(queue, event, args, target, skip_sid, namespace)
            return
        state = self._state()
        nsp = state.server.of(namespace or "/")
        log.info("emitting event %r to %s [%s]", event, "all" if target is None else target,
                 nsp.name)
        if isinstance(target, str) and target in nsp.connected and callback is not None:
            nsp.connected[target].emit(event, *args, callback=in_handler_context(
                callback, state.dispatcher.manage_session))
            return
        operator = nsp.to(target) if target is not None else nsp.to([])
        skipped = [skip_sid] if isinstance(skip_sid, str) else list(skip_sid or [])
        if not include_self and flask.has_request_context():
            sid = getattr(flask.request, "sid", None)
            if sid:
                skipped.append(sid)
        if skipped:
            operator = operator.except_(skipped)
        if ignore_queue:
            operator = operator.local
        if callback is not None:
            raise ValueError("callbacks need a single recipient: pass to=<socket id>")
        operator.emit(event, *args)

    def _emit_write_only(self, queue: Tuple[str, str], event: str, args: Any, target: Any,
                         skip_sid: Any, namespace: Optional[str]) -> None:
        from sio_core.adapter.redis import Emitter

        emitter = Emitter(*queue).of(namespace or "/")
        for room in [target] if isinstance(target, str) else list(target or []):
            emitter = emitter.to(room)
        for sid in [skip_sid] if isinstance(skip_sid, str) else list(skip_sid or []):
            emitter = emitter.except_(sid)
        emitter.emit(event, *args)

    def send(self, data: Any, json: bool = False, namespace: Optional[str] = None,
             to: Union[None, str, List[str]] = None, room: Union[None, str, List[str]] = None,
             include_self: bool = True, skip_sid: Union[None, str, List[str]] = None,
             callback: Optional[Handler] = None, ignore_queue: bool = False) -> None:
        """Send a ``message`` event, or a ``json`` event with ``json=True`` (see ``emit``)."""
        self.emit("json" if json else "message", data, to=to, room=room,
                  include_self=include_self, skip_sid=skip_sid, namespace=namespace,
                  callback=callback, ignore_queue=ignore_queue)

    def call(self, event: str, *args: Any, to: Optional[str] = None,
             namespace: Optional[str] = None, timeout: float = 60.0, sid: Optional[str] = None,
             ignore_queue: bool = False) -> Any:
        """Emit to one socket and block until it acks; return its answer.

        ``ignore_queue`` is accepted for Flask-SocketIO's sake: a socket of this process
        is called directly, one of another node through the queue either way.

        :raises sio_core.AckTimeout: no answer within ``timeout``
        :raises sio_core.Disconnected: the client is or becomes disconnected
        """
        args = event_values(args)
        target = to or sid
        if target is None:
            raise ValueError("call() needs to=<socket id>")
        nsp = self._state().server.of(namespace or "/")
        socket = nsp.connected.get(target)
        if socket is not None:
            return socket.call(event, *args, timeout=timeout)
        responses = nsp.to(target).timeout(timeout).call(event, *args)  # on another node?
        if not responses:
            from sio_core import Disconnected

            raise Disconnected("no connected socket %s in %s" % (target, nsp.name))
        return responses[0]

    def instrument(self, auth: Any, mode: str = "development", read_only: bool = False,
                   namespace: str = "/admin", server_id: Optional[str] = None,
                   stats_interval: float = 2.0) -> Any:
        """Serve the ``@socket.io/admin-ui`` dashboard's namespace on the app's server
        (after ``init_app``); the parameters are ``sio_core.Server.instrument``'s.

        :param auth: False, or ``{"type": "basic", "username": ..., "password": <bcrypt
            hash>}``
        """
        return self._state().server.instrument(
            auth, mode=mode, read_only=read_only, namespace=namespace, server_id=server_id,
            stats_interval=stats_interval)

    def close_room(self, room: str, namespace: Optional[str] = None) -> None:
        """Remove everyone from ``room``."""
        self._state().server.of(namespace or "/").in_(room).sockets_leave(room)

    def start_background_task(self, target: Handler, *args: Any, **kwargs: Any) -> Any:
        """Run ``target(*args, **kwargs)`` in a greenlet; returns it (``.join()`` waits)."""
        return runtime.spawn(target, *args, **kwargs)

    def sleep(self, seconds: float = 0) -> None:
        """Sleep cooperatively."""
        runtime.sleep(seconds)

    # -- serving ------------------------------------------------------------------------------

    def run(self, app: flask.Flask, host: Optional[str] = None, port: Optional[int] = None,
            debug: Optional[bool] = None, use_reloader: Optional[bool] = None,
            log_output: Optional[bool] = None,
            reloader_options: Optional[Dict[str, Any]] = None,
            extra_files: Optional[List[str]] = None, monkey_patch: bool = True,
            **kwargs: Any) -> None:
        """Serve ``app`` and Socket.IO together on gevent with websockets (blocks).

        Unless the program has done it, the standard library is monkey-patched with gevent
        first when nothing imported so far would break (see the README); otherwise, or
        with ``monkey_patch=False``, it is left alone with a warning.

        :param app: the Flask app (attached to this SocketIO)
        :param host: interface to bind (default ``127.0.0.1``)
        :param port: TCP port (default: the port of ``SERVER_NAME``, else 5000)
        :param debug: set ``app.debug`` (default: keep it); turns on the other two
        :param use_reloader: restart the process when a source file changes
        :param log_output: log one line per request at INFO on ``sio_core.serving``
        :param reloader_options: ``interval``, ``extra_files``, ``exclude_patterns``
            (werkzeug's ``reloader_type`` is ignored: ours polls file times)
        :param extra_files: more files for the reloader to watch (Flask-SocketIO's
            older spelling of ``reloader_options["extra_files"]``)
        :param monkey_patch: whether ``run`` may patch the standard library for the program
        :param kwargs: the HTTP deadlines ``headers_timeout``, ``request_timeout``,
            ``keepalive_timeout`` (seconds; see ``sio_core.serving.HttpTimeouts``) and
            gevent ``WSGIServer`` keywords (``certfile``, ``keyfile``, ``ssl_context``,
            ``backlog``...); Flask-SocketIO's werkzeug-only ``allow_unsafe_werkzeug`` is
            ignored
        :raises TypeError: on any other keyword, before anything is served
        """
        from .serving import serve, server_keywords

        options = dict(reloader_options or {})
        if extra_files:
            options["extra_files"] = [*options.get("extra_files", ()), *extra_files]
        server_kwargs, options = server_keywords(kwargs, options)
        state = state_of(app, self)
        if debug is not None:
            app.debug = debug
        if port is None:
            name = app.config.get("SERVER_NAME") or ""
            port = int(name.rsplit(":", 1)[1]) if ":" in name else 5000
        serve(app, state.server, host or "127.0.0.1", port,
              use_reloader=app.debug if use_reloader is None else use_reloader,
              log_output=app.debug if log_output is None else log_output,
              reloader_options=options, monkey_patch=monkey_patch, **server_kwargs)

    def stop(self) -> None:
        """Stop the server started by ``run`` (from a handler or background task)."""
        server = self._state().server
        server.close()

    def test_client(self, app: flask.Flask, namespace: Optional[str] = None,
                    query_string: Optional[str] = None, headers: Optional[Dict[str, str]] = None,
                    auth: Optional[Dict[str, Any]] = None, flask_test_client: Any = None) -> Any:
        """A client that runs handlers in-process, without a network."""
        from .testing import SocketIOTestClient

        return SocketIOTestClient(app, self, namespace=namespace, query_string=query_string,
                                  headers=headers, auth=auth, flask_test_client=flask_test_client)
