"""Class-based namespaces: ``on_<event>`` methods become handlers."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from . import helpers
from .handler import Registered

__all__ = ["Namespace"]


class Namespace:
    """Subclass and define ``on_connect``, ``on_disconnect``, ``on_<event>`` methods.

    Every event of the namespace goes through ``trigger_event``; override it to see
    them all (and call ``super().trigger_event(...)`` to dispatch as usual).

    :param namespace: the namespace served (default ``/``)
    """

    def __init__(self, namespace: Optional[str] = None) -> None:
        self.namespace = namespace or "/"
        self.socketio: Any = None
        self._methods: Dict[str, Optional[Registered]] = {}

    def _set_socketio(self, socketio: Any) -> None:
        self.socketio = socketio

    def _method_for(self, event: str) -> Optional[Registered]:
        if event not in self._methods:
            method = getattr(self, "on_" + event.replace("-", "_"), None)
            self._methods[event] = Registered(method) if callable(method) else None
        return self._methods[event]

    def trigger_event(self, event: str, sid: str, *args: Any) -> Any:
        """Run the ``on_<event>`` method (``-`` read as ``_``), if any; return its result.

        Runs inside the event's request context (``flask.request.sid`` is ``sid``).

        :param event: the event name (``connect`` and ``disconnect`` included)
        :param sid: the socket id
        :param args: the event's arguments; ``(environ, auth)`` for ``connect``, whose
            method gets ``auth`` only; ``(reason,)`` for ``disconnect``; methods get as
            many as they take
        """
        method = self._method_for(event)
        if method is None:
            return None
        if event == "connect":
            args = args[1:]
        return method.call_with_accepted(*args)

    def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """``SocketIO.emit`` defaulting to this namespace."""
        kwargs.setdefault("namespace", self.namespace)
        self.socketio.emit(event, *args, **kwargs)

    def send(self, data: Any, **kwargs: Any) -> None:
        """``SocketIO.send`` defaulting to this namespace."""
        kwargs.setdefault("namespace", self.namespace)
        self.socketio.send(data, **kwargs)

    def call(self, event: str, *args: Any, **kwargs: Any) -> Any:
        """``SocketIO.call`` defaulting to this namespace: block until the client acks."""
        kwargs.setdefault("namespace", self.namespace)
        return self.socketio.call(event, *args, **kwargs)

    def enter_room(self, sid: str, room: str, namespace: Optional[str] = None) -> None:
        """Put socket ``sid`` in ``room`` of this namespace."""
        helpers.join_room(room, sid, namespace or self.namespace)

    def leave_room(self, sid: str, room: str, namespace: Optional[str] = None) -> None:
        """Take socket ``sid`` out of ``room`` of this namespace."""
        helpers.leave_room(room, sid, namespace or self.namespace)

    def close_room(self, room: str, namespace: Optional[str] = None) -> None:
        """Remove everyone from ``room`` in this namespace."""
        self.socketio.close_room(room, namespace or self.namespace)

    def rooms(self, sid: str, namespace: Optional[str] = None) -> List[str]:
        """The rooms of socket ``sid`` in this namespace, its own room included."""
        return helpers.rooms(sid, namespace or self.namespace)

    def disconnect(self, sid: str, namespace: Optional[str] = None) -> None:
        """Disconnect socket ``sid`` from this namespace."""
        helpers.disconnect(sid, namespace or self.namespace)
