"""SocketIOTestClient: run an app's Socket.IO handlers in-process, without a network."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import flask
from werkzeug.test import EnvironBuilder

from sio_core.testing import TestClient

__all__ = ["SocketIOTestClient"]


class SocketIOTestClient:
    """A test client in Flask-SocketIO's shape, on ``sio_core.testing.TestClient``.

    :param app: the Flask app
    :param socketio: its ``SocketIO``
    :param namespace: namespace to connect at once (default ``/``)
    :param query_string: query string of the connection
    :param headers: request headers of the connection
    :param auth: auth payload sent with CONNECT
    :param flask_test_client: a Flask test client whose session cookie is carried over
    """

    def __init__(self, app: flask.Flask, socketio: Any, namespace: Optional[str] = None,
                 query_string: Optional[str] = None, headers: Optional[Dict[str, str]] = None,
                 auth: Optional[Dict[str, Any]] = None, flask_test_client: Any = None) -> None:
        self.app = app
        self.socketio = socketio
        self._query_string = query_string
        self._headers = dict(headers or {})
        self._flask_test_client = flask_test_client
        self._client: Optional[TestClient] = None
        self.connect(namespace, auth=auth)

    def _environ(self) -> Dict[str, Any]:
        headers = dict(self._headers)
        if self._flask_test_client is not None:
            name = self.app.config["SESSION_COOKIE_NAME"]
            cookie = self._flask_test_client.get_cookie(name)
            if cookie is not None:
                headers["Cookie"] = "%s=%s" % (name, cookie.value)
        query = "EIO=4&transport=websocket"
        if self._query_string:
            query += "&" + self._query_string.lstrip("?")
        path = self.socketio._state_for(self.app).server.path()
        return EnvironBuilder(path=path + "/", query_string=query, headers=headers).get_environ()

    def _core(self) -> TestClient:
        if self._client is None or self._client.conn.closed:
            server = self.socketio._state_for(self.app).server
            self._client = TestClient(server, eio=4, environ=self._environ())
        return self._client

    def connect(self, namespace: Optional[str] = None, query_string: Optional[str] = None,
                headers: Optional[Dict[str, str]] = None,
                auth: Optional[Dict[str, Any]] = None) -> None:
        """Connect to ``namespace``."""
        if query_string is not None:
            self._query_string = query_string
        if headers is not None:
            self._headers.update(headers)
        self._core().connect(namespace or "/", auth)

    def disconnect(self, namespace: Optional[str] = None) -> None:
        """Disconnect from ``namespace``."""
        self._core().disconnect(namespace or "/")

    def is_connected(self, namespace: Optional[str] = None) -> bool:
        """Whether ``namespace`` is connected."""
        return self._client is not None and self._client.is_connected(namespace or "/")

    def emit(self, event: str, *args: Any, callback: bool = False,
             namespace: Optional[str] = None) -> Any:
        """Emit; with ``callback=True`` return the ack (one value as itself)."""
        values = self._core().emit(event, *args, namespace=namespace or "/", ack=callback)
        if not callback:
            return None
        if values is None:
            return None
        return values[0] if len(values) == 1 else (tuple(values) or None)

    def send(self, data: Any, json: bool = False, callback: bool = False,
             namespace: Optional[str] = None) -> Any:
        """Send a ``message`` event, or a ``json`` event with ``json=True``."""
        return self.emit("json" if json else "message", data, callback=callback,
                         namespace=namespace)

    def on(self, event: str, handler: Any) -> None:
        """Answer server-to-client acks for ``event`` (the return value is the ack)."""
        self._core().on(event, handler)

    def get_received(self, namespace: Optional[str] = None) -> List[Dict[str, Any]]:
        """Events received on ``namespace`` since the last call."""
        return [dict(e) for e in self._core().get_received(namespace or "/")]

    @property
    def sid(self) -> Optional[str]:
        """The socket id on ``/``."""
        return self._client.sids.get("/") if self._client is not None else None

    @property
    def connect_error(self) -> Any:
        """The refusal of the last connection attempt to ``/``, if any."""
        return self._client.errors.get("/") if self._client is not None else None
