"""Middleware: serve Socket.IO under its path and pass everything else to a wrapped WSGI app."""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, Optional

from ..http import Response, not_found
from .app import WSGIApp

__all__ = ["Middleware"]


class Middleware:
    """Route requests under ``sio_app.path`` to ``sio_app``, the rest to ``wsgi_app``.

    :param sio_app: the Socket.IO/Engine.IO WSGI app
    :param wsgi_app: the application to wrap (None answers 404 elsewhere)
    """

    def __init__(self, sio_app: WSGIApp, wsgi_app: Optional[Callable[..., Any]] = None) -> None:
        self.sio_app = sio_app
        self.wsgi_app = wsgi_app

    def check_websocket(self, environ: Dict[str, Any]) -> Optional[Response]:
        """Pre-upgrade check for websockets under our path; others are the wrapped app's."""
        return self.sio_app.check_websocket(environ)

    def __call__(
        self, environ: Dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if self.sio_app.handles(environ.get("PATH_INFO", "")):
            return self.sio_app(environ, start_response)
        if self.wsgi_app is not None:
            return self.wsgi_app(environ, start_response)
        response = not_found()
        start_response(response.status_line, response.headers)
        return [response.body]
