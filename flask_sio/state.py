"""Per-app state, kept in ``app.extensions["socketio"]``."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import flask

from sio_core import Server

from .dispatch import Dispatcher

if TYPE_CHECKING:  # pragma: no cover
    from .extension import SocketIO

__all__ = ["State", "state_of"]


class State:
    """One app's Socket.IO: its server, the dispatcher running its handlers, and the
    extension that registered them.

    :param extension: the ``SocketIO`` attached to the app
    :param app: the Flask app
    :param server: the app's sio_core server
    :param dispatcher: runs the extension's handlers for the server's sockets
    """

    __slots__ = ("extension", "app", "server", "dispatcher")

    def __init__(self, extension: "SocketIO", app: flask.Flask, server: Server,
                 dispatcher: Dispatcher) -> None:
        #: the ``SocketIO`` attached to the app
        self.extension = extension
        #: the Flask app
        self.app = app
        #: the app's sio_core server
        self.server = server
        #: runs the handlers for the server's sockets
        self.dispatcher = dispatcher

    def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """``SocketIO.emit``, for code written for Flask-SocketIO's
        ``current_app.extensions["socketio"].emit(...)``."""
        self.extension.emit(event, *args, **kwargs)

    def send(self, data: Any, **kwargs: Any) -> None:
        """``SocketIO.send``, for code written for Flask-SocketIO's
        ``current_app.extensions["socketio"].send(...)``."""
        self.extension.send(data, **kwargs)

    def call(self, event: str, *args: Any, **kwargs: Any) -> Any:
        """``SocketIO.call``, reached through ``app.extensions["socketio"]``."""
        return self.extension.call(event, *args, **kwargs)

    def close_room(self, room: str, namespace: Optional[str] = None) -> None:
        """``SocketIO.close_room``, reached through ``app.extensions["socketio"]``."""
        self.extension.close_room(room, namespace)

    def start_background_task(self, target: Any, *args: Any, **kwargs: Any) -> Any:
        """``SocketIO.start_background_task``, reached through ``app.extensions["socketio"]``."""
        return self.extension.start_background_task(target, *args, **kwargs)

    def sleep(self, seconds: float = 0) -> None:
        """``SocketIO.sleep``, reached through ``app.extensions["socketio"]``."""
        self.extension.sleep(seconds)


def state_of(app: flask.Flask, extension: Optional["SocketIO"] = None) -> State:
    """The Socket.IO state of ``app``.

    :param app: a Flask app
    :param extension: when given, the ``SocketIO`` the app must be attached to
    :raises RuntimeError: when ``app`` serves no Socket.IO (none attached, or a
        write-only one), or when it is attached to another ``SocketIO``
    """
    state = app.extensions.get("socketio")
    if not isinstance(state, State) or (extension is not None
                                        and state.extension is not extension):
        raise RuntimeError("this app is not attached to this SocketIO")
    return state
