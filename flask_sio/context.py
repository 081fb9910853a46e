"""Running handlers the Flask way: inside a request context for the Socket.IO connection."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Sequence

import flask
from flask import Request, signals
from flask.ctx import AppContext, RequestContext
from flask.globals import _cv_app, _cv_request
from werkzeug.wrappers import Request as WerkzeugRequest

if TYPE_CHECKING:  # pragma: no cover
    from sio_core import Socket

__all__ = ["SocketContext", "context_of", "forget", "run_in_context", "in_handler_context",
           "report_to_test_client", "SESSION_KEY", "TEST_ERRORS_KEY"]

#: where a socket keeps its copy of the Flask session (in ``socket.data``)
SESSION_KEY = "flask_sio.session"

#: environ key of a test client's connection: the list that collects the exceptions
#: its handlers let escape, for the test client to raise in the test
TEST_ERRORS_KEY = "flask_sio.test_client.errors"


def report_to_test_client(socket: "Socket", exc: BaseException) -> bool:
    """Hand ``exc``, escaped from a handler of ``socket``, to the test client that
    drives the socket's connection, if one does.

    :returns: whether a test client took it (it raises it in the test's thread)
    """
    errors = socket.environ.get(TEST_ERRORS_KEY)
    if errors is None:
        return False
    errors.append(exc)
    return True


class _Unconnectable:
    """What Flask < 2.3 has for a signal when blinker is missing, seen as one that has
    no receivers (it can have none)."""

    receivers: Dict[Any, Any] = {}


def _signal(name: str) -> Any:
    """Flask's signal ``name``, checked for receivers before each send."""
    signal = getattr(signals, name)
    return signal if hasattr(signal, "receivers") else _Unconnectable()


appcontext_pushed = _signal("appcontext_pushed")
appcontext_popped = _signal("appcontext_popped")
appcontext_tearing_down = _signal("appcontext_tearing_down")
request_tearing_down = _signal("request_tearing_down")


def _open_session(app: flask.Flask, environ: Dict[str, Any]) -> Any:
    with app.request_context(environ):
        # the session opened from the cookie (flask types its proxy as the session itself)
        return flask.session._get_current_object()  # type: ignore[attr-defined]


class _SocketRequestContext(RequestContext):
    """A request context whose request was matched against the URL map once, when the
    socket's first handler ran (the handshake's URL does not change)."""

    def match_request(self) -> None:
        """Nothing to match: the request carries ``url_rule`` and ``view_args`` already."""


class SocketContext:
    """The Flask side of one socket, built for its first handler and reused by the next.

    The handshake's request object is built, given its URL adapter and matched once; each
    handler then gets a shallow copy of it (its own ``sid``, ``namespace``, ``event``
    attributes and whatever the handler sets), pushed in a request context that is
    reused too, unless it is pushed already (a handler that calls an in-context callback
    itself: the callback gets a context of its own). Pushing it opens a new app context,
    so ``flask.g`` is fresh for every handler, and popping it runs the app's teardown
    functions, as a new ``app.request_context(environ)`` would.

    :param app: the Flask app
    :param environ: the WSGI environ of the socket's handshake
    """

    __slots__ = ("app", "request", "_ctx", "_session", "_busy", "_hooks_overridden")

    def __init__(self, app: flask.Flask, environ: Dict[str, Any]) -> None:
        #: the Flask app
        self.app = app
        ctx = _SocketRequestContext(app, environ)
        RequestContext.match_request(ctx)  # once, for every handler's copy
        #: the handshake's request, matched; handlers see copies of it
        self.request: Request = ctx.request
        missed = self.request.routing_exception  # the Socket.IO path is seldom a route
        if missed is not None:  # kept for the socket's life: not with the frames (and
            missed.__traceback__ = missed.__context__ = None  # their locals) it was in
        self._ctx = ctx
        self._session: Optional[Any] = None  # the session the reusable context holds
        self._busy = False
        #: the app's teardown or the request's close is its own: always called
        self._hooks_overridden = _overridden(app, self.request)

    def copy_request(self, socket: "Socket", event: str, args: Any) -> Request:
        """A copy of the handshake's request for one handler of ``socket`` (shallow:
        what werkzeug parsed and cached is shared, attributes set on it are not)."""
        base = self.request
        request = base.__class__.__new__(base.__class__)
        attributes = base.__dict__.copy()  # copying a dict whole is its fastest path
        attributes["sid"] = socket.id
        attributes["namespace"] = socket.nsp.name
        attributes["event"] = {"message": event, "args": tuple(args)}
        attributes["sio_socket"] = socket
        request.__dict__ = attributes
        return request

    def run(self, socket: "Socket", event: str, args: Any, fn: Callable[..., Any],
            call_args: Sequence[Any], manage_session: bool = True) -> Any:
        """``fn(*call_args)`` in a request context for ``event`` of ``socket``.

        ``flask.request`` carries ``sid``, ``namespace`` and ``event`` (``{"message":
        name, "args": (values...)}``, as in Flask-SocketIO); ``flask.session`` is the
        session of the connect request, kept per socket (changes stay with the Socket.IO
        connection); with ``manage_session=False`` it is opened by the app's session
        interface for every event and saved after it if changed; ``flask.g`` is fresh for
        every event.
        """
        request = self.copy_request(socket, event, args)
        session = None
        if manage_session:
            session = socket.data.get(SESSION_KEY)
            if session is None:
                session = socket.data[SESSION_KEY] = _open_session(self.app, socket.environ)
        ctx = self._ctx
        if session is None or self._busy:
            return _run_in(_SocketRequestContext(self.app, request.environ, request=request,
                                                 session=session), fn, call_args,
                           save_session=session is None)
        if session is not self._session:
            ctx = self._ctx = _SocketRequestContext(self.app, request.environ,
                                                    request=request, session=session)
            self._session = session
        ctx.request = request
        ctx.flashes = None
        if ctx._after_request_functions:  # no response: what a handler queued never runs
            ctx._after_request_functions = []
        self._busy = True
        try:
            # what Flask's RequestContext.push does for a matched request with its session
            app = self.app
            app_ctx: Optional[AppContext] = _cv_app.get(None)
            if app_ctx is None or app_ctx.app is not app:
                app_ctx = app.app_context()  # a fresh g
                app_ctx._cv_tokens.append(_cv_app.set(app_ctx))
                if appcontext_pushed.receivers:
                    appcontext_pushed.send(app, _async_wrapper=app.ensure_sync)
            else:
                app_ctx = None  # the handler runs in the app context around it
            ctx._cv_tokens.append((_cv_request.set(ctx), app_ctx))
            try:
                result = fn(*call_args)
            except BaseException as exc:
                self._pop(ctx, exc)
                raise
            self._pop(ctx, None)
            return result
        finally:
            ctx.request = self.request  # no handler's copy (nor its socket) kept
            self._busy = False

    def _pop(self, ctx: RequestContext, exc: Optional[BaseException]) -> None:
        """What Flask's RequestContext.pop (and the app context's) does, without the calls
        that have nothing to do: a signal without receivers, the teardown of an app
        without teardown functions, closing a request that parsed no files. The context
        variables, the tokens kept on both contexts and the checks are Flask's."""
        app = self.app
        request = ctx.request
        try:
            if (app.teardown_request_funcs or request_tearing_down.receivers
                    or self._hooks_overridden):
                app.do_teardown_request(exc)
            if "files" in request.__dict__ or self._hooks_overridden:
                request.close()
        finally:
            current = _cv_request.get()
            token, app_ctx = ctx._cv_tokens.pop()
            _cv_request.reset(token)
            request.environ["werkzeug.request"] = None
            if app_ctx is not None:
                try:
                    if len(app_ctx._cv_tokens) == 1 and (
                            app.teardown_appcontext_funcs or appcontext_tearing_down.receivers
                            or self._hooks_overridden):
                        app.do_teardown_appcontext(exc)
                finally:
                    current_app = _cv_app.get()
                    _cv_app.reset(app_ctx._cv_tokens.pop())
                if current_app is not app_ctx:
                    raise AssertionError("popped wrong app context (%r instead of %r)"
                                         % (current_app, app_ctx))
                if appcontext_popped.receivers:
                    appcontext_popped.send(app, _async_wrapper=app.ensure_sync)
        if current is not ctx:
            raise AssertionError("popped wrong request context (%r instead of %r)"
                                 % (current, ctx))


def _overridden(app: flask.Flask, request: Request) -> bool:
    """Whether ``app`` or ``request`` has a teardown or close method of its own (then
    they are called for every event, as Flask does, even with nothing registered)."""
    return (type(app).do_teardown_request is not flask.Flask.do_teardown_request
            or type(app).do_teardown_appcontext is not flask.Flask.do_teardown_appcontext
            or type(request).close is not WerkzeugRequest.close)


def _run_in(ctx: RequestContext, fn: Callable[..., Any], call_args: Sequence[Any],
            save_session: bool) -> Any:
    """``fn(*call_args)`` in ``ctx``, a context of its own; with ``save_session``, the
    session the app's session interface opened for it is saved after ``fn`` (see
    ``_save_session``)."""
    with ctx:
        result = fn(*call_args)
        if save_session:
            _save_session(ctx.app, ctx.session)
        return result


#: the context of each connected socket that ran a handler (dropped by ``forget``)
_contexts: Dict["Socket", SocketContext] = {}


def context_of(app: flask.Flask, socket: "Socket") -> SocketContext:
    """The ``SocketContext`` of ``socket`` under ``app``: kept while the socket is
    connected (until ``forget``), a new one each time for a socket that is not."""
    context = _contexts.get(socket)
    if context is None or context.app is not app:
        context = SocketContext(app, socket.environ)
        if socket.connected:
            _contexts[socket] = context
    return context


def forget(socket: "Socket") -> None:
    """Drop ``socket``'s context: it disconnected and its last handler ran."""
    _contexts.pop(socket, None)


def run_in_context(app: flask.Flask, socket: "Socket", event: str, args: Any,
                   fn: Callable[..., Any], *call_args: Any,
                   manage_session: bool = True) -> Any:
    """Call ``fn(*call_args)`` in a request context built from the connection's environ
    (see ``SocketContext.run``)."""
    return context_of(app, socket).run(socket, event, args, fn, call_args, manage_session)


def _save_session(app: flask.Flask, session: Any) -> None:
    """With ``manage_session=False``, hand a session a handler changed back to Flask's
    session interface: a server-side store keeps it for the next HTTP request (a cookie
    session has no response to travel in, so its changes are lost, as in Flask-SocketIO)."""
    interface = app.session_interface
    if interface.is_null_session(session) or not getattr(session, "modified", True):
        return
    interface.save_session(app, session, app.response_class())


def in_handler_context(fn: Callable[..., Any], manage_session: bool = True
                       ) -> Callable[..., Any]:
    """``fn``, made to run in a request context like the current handler's, if any.

    An ack callback given to ``emit`` inside a handler then sees the same
    ``request.sid``, ``request.namespace`` and session as the handler did.

    :param fn: the callback
    :param manage_session: the app's ``manage_session`` (see ``run_in_context``)
    """
    socket = getattr(flask.request, "sio_socket", None) if flask.has_request_context() else None
    if socket is None:
        return fn
    app = flask.current_app._get_current_object()  # type: ignore[attr-defined]

    def in_context(*values: Any) -> Any:
        return run_in_context(app, socket, "callback", list(values), fn, *values,
                              manage_session=manage_session)

    return in_context
