"""Context helpers for use inside handlers: emit, send, join_room, ... (Flask-SocketIO style)."""
from __future__ import annotations

import logging
from typing import Any, Callable, List, Optional, Union

import flask
from flask.globals import _cv_request

from sio_core import Disconnected

from .context import in_handler_context
from .handler import event_values
from .state import State, state_of

__all__ = ["emit", "send", "call", "join_room", "leave_room", "close_room", "rooms",
           "disconnect"]

Target = Union[None, str, List[str]]

log = logging.getLogger(__name__)


def _state() -> State:
    return state_of(flask.current_app)


def _request() -> Any:
    """The request object of the current handler (read from Flask's context variable: a
    handler's emit reads it, and the proxy costs several times more)."""
    ctx = _cv_request.get(None)
    if ctx is None:  # Flask's error for a request outside a request context
        return flask.request._get_current_object()  # type: ignore[attr-defined]
    return ctx.request


def _sid() -> str:
    sid = getattr(_request(), "sid", None)
    if sid is None:
        raise RuntimeError("this helper works inside a Socket.IO handler only")
    return sid


def _namespace(namespace: Optional[str]) -> str:
    return namespace or getattr(_request(), "namespace", None) or "/"


def _socket(sid: Optional[str] = None, namespace: Optional[str] = None) -> Any:
    current = getattr(_request(), "sio_socket", None)
    if current is not None and (sid is None or sid == current.id) and (
            namespace is None or namespace == current.nsp.name):
        return current  # also while it is still being admitted by the connect handler
    nsp = _state().server.of(_namespace(namespace))
    return nsp.connected.get(sid or _sid())


def emit(event: str, *args: Any, to: Target = None, room: Target = None,
         include_self: bool = True, skip_sid: Target = None, namespace: Optional[str] = None,
         callback: Optional[Callable[..., Any]] = None, broadcast: bool = False,
         ignore_queue: bool = False) -> None:
    """Emit from a handler: to the sender, or with ``to``/``room``/``broadcast`` to many.

    A lone tuple argument is sent as several arguments, as in Flask-SocketIO.

    :param include_self: with a broadcast, whether the sender receives it too
    :param skip_sid: socket id(s) left out of a broadcast
    :param callback: ``fn(*values)`` for the client's ack (single recipient only)
    :param ignore_queue: with a message queue, reach this process's clients only
    """
    if (to is None and room is None and namespace is None and callback is None
            and not broadcast):  # the commonest call: to the sender, in its handler
        ctx = _cv_request.get(None)
        socket = None if ctx is None else getattr(ctx.request, "sio_socket", None)
        if socket is not None:
            if log.isEnabledFor(logging.INFO):
                log.info("emitting event %r to %s [%s]", event, socket.id, socket.nsp.name)
            if len(args) == 1 and isinstance(args[0], tuple):  # event_values, inline
                args = args[0]
            socket.emit(event, *args)
            return
    target = to if to is not None else room
    if target is None and not broadcast:
        socket = _socket(namespace=namespace)
        if socket is None:
            return
        if log.isEnabledFor(logging.INFO):
            log.info("emitting event %r to %s [%s]", event, socket.id, socket.nsp.name)
        if callback is None:
            socket.emit(event, *event_values(args))
        else:
            socket.emit(event, *event_values(args), callback=in_handler_context(
                callback, _state().dispatcher.manage_session))
        return
    _state().extension.emit(event, *args, to=target, include_self=include_self,
                            skip_sid=skip_sid, namespace=_namespace(namespace),
                            callback=callback, ignore_queue=ignore_queue)


def send(message: Any, json: bool = False, to: Target = None, room: Target = None,
         include_self: bool = True, skip_sid: Target = None, namespace: Optional[str] = None,
         callback: Optional[Callable[..., Any]] = None, broadcast: bool = False,
         ignore_queue: bool = False) -> None:
    """Send a ``message`` event from a handler, a ``json`` event with ``json=True``
    (see ``emit``)."""
    emit("json" if json else "message", message, to=to, room=room,
         include_self=include_self, skip_sid=skip_sid, namespace=namespace,
         callback=callback, broadcast=broadcast, ignore_queue=ignore_queue)


def call(event: str, *args: Any, to: Optional[str] = None, namespace: Optional[str] = None,
         timeout: float = 60.0, ignore_queue: bool = False) -> Any:
    """Emit to the sender (or ``to``) and block until it acks; return the answer.

    ``ignore_queue`` is accepted for Flask-SocketIO's sake (a local socket is called
    directly either way).

    :raises sio_core.AckTimeout: no answer within ``timeout``
    :raises sio_core.Disconnected: the client left
    """
    socket = _socket(to, namespace)
    if socket is None:
        raise Disconnected("socket %s is not connected" % (to or _sid()))
    return socket.call(event, *event_values(args), timeout=timeout)


def join_room(room: str, sid: Optional[str] = None, namespace: Optional[str] = None) -> None:
    """Put the sender (or ``sid``) in ``room``."""
    socket = _socket(sid, namespace)
    if socket is not None:
        socket.join(room)


def leave_room(room: str, sid: Optional[str] = None, namespace: Optional[str] = None) -> None:
    """Take the sender (or ``sid``) out of ``room``."""
    socket = _socket(sid, namespace)
    if socket is not None:
        socket.leave(room)


def close_room(room: str, namespace: Optional[str] = None) -> None:
    """Remove everyone from ``room``."""
    _state().extension.close_room(room, _namespace(namespace))


def rooms(sid: Optional[str] = None, namespace: Optional[str] = None) -> List[str]:
    """The rooms of the sender (or ``sid``), its own room included."""
    socket = _socket(sid, namespace)
    return sorted(socket.rooms) if socket is not None else []


def disconnect(sid: Optional[str] = None, namespace: Optional[str] = None,
               silent: bool = False) -> None:
    """Disconnect the sender (or ``sid``) from the namespace.

    ``silent`` is accepted for Flask-SocketIO's sake, where it is deprecated and does
    nothing; the client is told either way.
    """
    socket = _socket(sid, namespace)
    if socket is not None:
        socket.disconnect()
