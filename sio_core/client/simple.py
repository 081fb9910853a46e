"""``SimpleClient``: a few blocking calls for scripts, with the events kept in a queue."""
from __future__ import annotations

import queue
from typing import Any, Dict, List, Optional, Sequence

from .. import runtime
from ..errors import Disconnected
from .socketio_client import SocketIOClient

__all__ = ["SimpleClient"]

#: queued when a namespace disconnects, so that a waiting ``receive()`` looks again
_DISCONNECTED = object()


#: how often a receive() waiting through a reconnection looks whether the client gave up
_GIVE_UP_CHECK = 0.25

class SimpleClient:
    """A Socket.IO client for scripts: connect to one namespace, emit or call, and take
    the server's events one at a time with ``receive()``::

        with SimpleClient() as client:
            client.connect("http://127.0.0.1:5000")
            client.emit("echo", "hello")
            event, *args = client.receive(timeout=5)

    It works with and without monkey-patching, from any thread (see ``SocketIOClient``).

    :param options: ``SocketIOClient``'s keywords (reconnection, json, ...)
    """

    def __init__(self, **options: Any) -> None:
        #: the ``SocketIOClient`` underneath
        self.client = SocketIOClient(**options)
        self.namespace = "/"
        self._events: "queue.Queue[Any]" = queue.Queue()

    def connect(self, url: str, headers: Optional[Dict[str, str]] = None,
                auth: Optional[Dict[str, Any]] = None,
                transports: Optional[Sequence[str]] = None, namespace: str = "/",
                socketio_path: str = "socket.io", wait_timeout: float = 5.0,
                eio: int = 4) -> None:
        """Connect to ``namespace`` of ``url`` (``SocketIOClient.connect``'s keywords).

        :raises ConnectionError: naming why it could not
        """
        self.namespace = namespace
        self.client.on("*", self._queue_event, namespace)
        self.client.on("disconnect", self._queue_disconnect, namespace)
        self.client.connect(url, headers=headers, auth=auth, transports=transports,
                            namespaces=[namespace], socketio_path=socketio_path,
                            wait_timeout=wait_timeout, eio=eio)

    def _queue_event(self, event: str, *args: Any) -> None:
        self._events.put([event, *args])

    def _queue_disconnect(self, reason: str = "") -> None:
        self._events.put(_DISCONNECTED)

    @property
    def sid(self) -> Optional[str]:
        """The socket id in the namespace (None when not connected)."""
        return self.client.get_sid(self.namespace)

    @property
    def transport(self) -> str:
        """``polling`` or ``websocket``."""
        return self.client.transport()

    @property
    def connected(self) -> bool:
        """Whether the client is connected."""
        return self.client.connected

    def emit(self, event: str, data: Any = None) -> None:
        """Emit ``event``; a tuple ``data`` sends several arguments.

        :raises Disconnected: when not connected
        """
        self.client.emit(event, data, self.namespace)

    def call(self, event: str, data: Any = None, timeout: float = 60.0) -> Any:
        """Emit ``event`` and return the server's ack (one value as itself).

        :raises AckTimeout: no answer within ``timeout`` seconds
        :raises Disconnected: when not connected, or disconnected first
        """
        return self.client.call(event, data, self.namespace, timeout)

    def receive(self, timeout: Optional[float] = None) -> List[Any]:
        """The next event from the server, as ``[event, arg, ...]``, in the order received.

        :param timeout: seconds to wait (None: as long as it takes)
        :raises TimeoutError: when none came within ``timeout``
        :raises Disconnected: when none is left and the client is disconnected for good
        """
        deadline = None if timeout is None else runtime.monotonic() + timeout
        reconnecting = False
        while True:
            left = None if deadline is None else max(0.0, deadline - runtime.monotonic())
            if reconnecting:  # look again now and then: the client may give up
                left = _GIVE_UP_CHECK if left is None else min(left, _GIVE_UP_CHECK)
            try:
                item = self._events.get(timeout=left)
            except queue.Empty:
                if reconnecting and self.client.stopped:
                    item = _DISCONNECTED
                elif deadline is None or runtime.monotonic() < deadline:
                    continue
                else:
                    raise TimeoutError("no event within %ss" % timeout) from None
            if item is not _DISCONNECTED:
                return item  # type: ignore[no-any-return]
            if self.client.stopped:  # not about to reconnect
                self._events.put(_DISCONNECTED)  # the next receive() raises too
                raise Disconnected("disconnected from %s" % self.namespace)
            reconnecting = True

    def disconnect(self) -> None:
        """Disconnect (no reconnection)."""
        self.client.disconnect()

    def __enter__(self) -> "SimpleClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.disconnect()
