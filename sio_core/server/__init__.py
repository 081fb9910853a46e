"""The glue layer: sessions, clients, namespaces, sockets, broadcasts."""
from .broadcast import BroadcastOperator
from .client import Client
from .clock import Clock
from .core import ServerCore
from .engine import Connection, EngineHandler, EngineServer
from .namespace import Namespace
from .socket import Ack, Handshake, Socket

__all__ = [
    "Ack", "BroadcastOperator", "Client", "Clock", "Connection", "EngineHandler", "EngineServer",
    "Handshake", "Namespace", "ServerCore", "Socket",
]
