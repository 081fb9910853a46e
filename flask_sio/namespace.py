"""Class-based namespaces: ``on_<event>`` methods become handlers."""
from __future__ import annotations

from typing import Any, Callable, Optional

__all__ = ["Namespace"]


class Namespace:
    """Subclass and define ``on_connect``, ``on_disconnect``, ``on_<event>`` methods.

    :param namespace: the namespace served (default ``/``)
    """

    def __init__(self, namespace: Optional[str] = None) -> None:
        self.namespace = namespace or "/"
        self.socketio: Any = None

    def _set_socketio(self, socketio: Any) -> None:
        self.socketio = socketio

    def _method_for(self, event: str) -> Optional[Callable[..., Any]]:
        method = getattr(self, "on_" + event.replace("-", "_"), None)
        return method if callable(method) else None

    def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """``SocketIO.emit`` defaulting to this namespace."""
        kwargs.setdefault("namespace", self.namespace)
        self.socketio.emit(event, *args, **kwargs)

    def send(self, data: Any, **kwargs: Any) -> None:
        """``SocketIO.send`` defaulting to this namespace."""
        kwargs.setdefault("namespace", self.namespace)
        self.socketio.send(data, **kwargs)

    def close_room(self, room: str, namespace: Optional[str] = None) -> None:
        """Remove everyone from ``room`` in this namespace."""
        self.socketio.close_room(room, namespace or self.namespace)
