"""A gunicorn worker that vets websocket upgrades before answering 101.

Use ``gunicorn -k sio_core.gunicorn.GeventWebSocketWorker -w 1 module:app``. The stock
``geventwebsocket.gunicorn.workers.GeventWebSocketWorker`` works too, but it upgrades
before the application runs, so a refused origin gets a 101 followed by a close
(code 1008) instead of a plain HTTP 403.
"""
from __future__ import annotations

from geventwebsocket.gunicorn.workers import GeventWebSocketWorker as _StockWorker

from .serving import SioWebSocketHandler

__all__ = ["GeventWebSocketWorker"]


class GeventWebSocketWorker(_StockWorker):
    """gunicorn's gevent worker with sio_core's websocket handler."""

    wsgi_handler = SioWebSocketHandler
