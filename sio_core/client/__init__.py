"""A synchronous Socket.IO client on gevent, built on the same codecs as the server.

    from sio_core.client import SocketIOClient

    with SocketIOClient() as client:
        client.connect("http://127.0.0.1:5000")
        print(client.call("ack-echo", "hello", timeout=5))

It speaks Engine.IO 4 / Socket.IO 5 by default and Engine.IO 3 / Socket.IO 4 with
``eio=3``, over websocket and long-polling (with the upgrade), and reconnects with
exponential backoff when the connection is lost.

``SocketIOClient`` connects to a server; ``sio_core.Client`` is something else, the
server's object for one connected client. The modules: ``engine`` (one Engine.IO
connection), ``polling`` and ``handshake`` (its HTTP requests and websocket opening),
``acks`` (the acks waited for), ``socketio_client`` (the Socket.IO side and the API),
``simple`` (``SimpleClient``, for scripts), ``net`` (gevent's sockets, patched or not).

It works with and without ``gevent.monkey.patch_all()``: in an unpatched program each client
runs its greenlets on a hub thread of its own, and its blocking calls work from any thread.
"""
from __future__ import annotations

import warnings
from typing import Any

from .errors import ConnectionError
from .simple import SimpleClient
from .socketio_client import SocketIOClient, connect, emit_once

__all__ = ["ConnectionError", "SimpleClient", "SocketIOClient", "connect", "emit_once"]

#: old names, importable for one more release
_DEPRECATED = {"Client": "SocketIOClient"}


def __getattr__(name: str) -> Any:
    if name in _DEPRECATED:
        new = _DEPRECATED[name]
        warnings.warn("sio_core.client.%s is deprecated: use sio_core.client.%s (sio_core.Client "
                      "is the server's view of a client)" % (name, new), DeprecationWarning,
                      stacklevel=2)
        return globals()[new]
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
