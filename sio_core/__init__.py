"""sio_core: a Socket.IO and Engine.IO server for WSGI on gevent."""
from .adapter import Adapter, MemoryAdapter
from .app import Server
from .errors import (
    AckTimeout,
    ConnectionError,
    ConnectionRefusedError,
    Disconnected,
    ReservedEventError,
    SioError,
)
from .server import BroadcastOperator, Client, Namespace, Socket
from .serving import run
from .wsgi.app import WSGIApp
from .wsgi.middleware import Middleware

__all__ = [
    "AckTimeout", "Adapter", "BroadcastOperator", "Client", "ConnectionError",
    "ConnectionRefusedError", "Disconnected", "MemoryAdapter", "Middleware", "Namespace",
    "ReservedEventError", "Server", "SioError", "Socket", "WSGIApp", "run",
]
