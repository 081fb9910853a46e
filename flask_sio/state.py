"""Per-app state, kept in ``app.extensions["socketio"]``."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Set

import flask

from sio_core import Server

if TYPE_CHECKING:  # pragma: no cover
    from .extension import SocketIO

__all__ = ["State"]


class State:
    """What one app's Socket.IO needs: its server and the extension serving it.

    Attribute lookups it lacks fall through to the extension, so code written for
    Flask-SocketIO's ``current_app.extensions["socketio"].emit(...)`` keeps working.
    """

    def __init__(self, extension: "SocketIO", app: flask.Flask, server: Server,
                 manage_session: bool = True, always_connect: bool = False) -> None:
        self.extension = extension
        self.app = app
        self.server = server
        self.manage_session = manage_session
        #: admit connections before the connect handler runs (it may then disconnect)
        self.always_connect = always_connect
        #: namespaces whose handlers are bound on the server
        self.bound: Set[str] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.extension, name)
