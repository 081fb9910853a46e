"""Running handlers the Flask way: inside a request context for the Socket.IO connection."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, Optional

import flask
from flask.ctx import RequestContext

if TYPE_CHECKING:  # pragma: no cover
    from sio_core import Socket

__all__ = ["run_in_context", "in_handler_context", "report_to_test_client", "SESSION_KEY",
           "TEST_ERRORS_KEY"]

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


def _open_session(app: flask.Flask, environ: Dict[str, Any]) -> Any:
    with app.request_context(environ):
        # the session opened from the cookie (flask types its proxy as the session itself)
        return flask.session._get_current_object()  # type: ignore[attr-defined]


def run_in_context(app: flask.Flask, socket: "Socket", event: str, args: Any,
                   fn: Callable[..., Any], *call_args: Any,
                   manage_session: bool = True) -> Any:
    """Call ``fn(*call_args)`` in a request context built from the connection's environ.

    ``flask.request`` carries ``sid``, ``namespace`` and ``event`` (``{"message": name,
    "args": (values...)}``, as in Flask-SocketIO); ``flask.session``
    is the session of the connect request, kept per socket (changes stay with the
    Socket.IO connection); with ``manage_session=False`` it is opened by the app's session
    interface for every event and saved after it if changed; ``flask.g`` is fresh for every
    event.
    """
    environ = socket.environ
    session: Optional[Any] = None
    if manage_session:
        session = socket.data.get(SESSION_KEY)
        if session is None:
            session = socket.data[SESSION_KEY] = _open_session(app, environ)
    ctx = RequestContext(app, environ, session=session)
    ctx.push()
    try:
        request = flask.request
        request.sid = socket.id  # type: ignore[attr-defined]
        request.namespace = socket.nsp.name  # type: ignore[attr-defined]
        request.event = {"message": event, "args": tuple(args)}  # type: ignore[attr-defined]
        request.sio_socket = socket  # type: ignore[attr-defined]
        result = fn(*call_args)
        if not manage_session:
            _save_session(app, ctx.session)
        return result
    finally:
        ctx.pop()


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
