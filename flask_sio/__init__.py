"""flask_sio: Socket.IO for Flask on gevent, in Flask-SocketIO's shape."""
from sio_core import AckTimeout, ConnectionRefusedError, Disconnected

from .config import IgnoredOptionWarning
from .extension import SocketIO
from .helpers import call, close_room, disconnect, emit, join_room, leave_room, rooms, send
from .namespace import Namespace
from .testing import SocketIOTestClient

__all__ = [
    "AckTimeout", "ConnectionRefusedError", "Disconnected", "IgnoredOptionWarning", "Namespace",
    "SocketIO",
    "SocketIOTestClient", "call", "close_room", "disconnect", "emit", "join_room", "leave_room",
    "rooms", "send",
]
