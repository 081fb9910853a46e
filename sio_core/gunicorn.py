"""A gunicorn worker that vets websocket upgrades before answering 101.

Use ``gunicorn -k sio_core.gunicorn.GeventWebSocketWorker -w 1 module:app``. The stock
``geventwebsocket.gunicorn.workers.GeventWebSocketWorker`` works too, but it upgrades
before the application runs, so a refused origin gets a 101 followed by a close
(code 1008) instead of a plain HTTP 403.

The HTTP deadlines are the application's (a ``Server``'s ``headers_timeout`` and
``request_timeout``; Node's defaults for any other application), with gunicorn's own
``--keep-alive`` as the keep-alive timeout.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from geventwebsocket.gunicorn.workers import GeventWebSocketWorker as _StockWorker

from .serving import SioWebSocketHandler, app_timeouts

__all__ = ["GeventWebSocketWorker"]


class GeventWebSocketWorker(_StockWorker):
    """gunicorn's gevent worker with sio_core's websocket handler and deadlines."""

    wsgi_handler = SioWebSocketHandler
    server_class: Any  # gunicorn's PyWSGIServer, made ours in run()

    def run(self) -> None:
        """Serve, the deadlines set on the server class the handlers read them from."""
        timeouts = dataclasses.replace(app_timeouts(self.wsgi),
                                       keepalive_timeout=float(self.cfg.keepalive))
        self.server_class = type("SioPyWSGIServer", (self.server_class,),
                                 {"http_timeouts": timeouts})
        super().run()
