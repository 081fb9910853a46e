"""SocketIOTestClient: run an app's Socket.IO handlers in-process, without a network."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import flask
from werkzeug.test import EnvironBuilder

from sio_core.socketio import ack_result
from sio_core.testing import TestClient

from .context import TEST_ERRORS_KEY
from .state import state_of

__all__ = ["SocketIOTestClient"]

#: events whose one value ``get_received`` gives as itself (Flask-SocketIO's ``send``)
_SENT = ("message", "json")


class SocketIOTestClient:
    """A test client in Flask-SocketIO's shape, on ``sio_core.testing.TestClient``.

    Handlers run in the server's greenlets; each call waits until they are idle.
    An exception a handler lets escape (its namespace's error handler included) is
    raised by the call that set it off, as in Flask-SocketIO: ``emit`` of a value
    that is not JSON, from a handler or as its ack, raises ``TypeError`` here.

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
        self._errors: List[BaseException] = []
        self.connect(namespace, auth=auth)

    def _environ(self) -> Dict[str, Any]:
        headers = dict(self._headers)
        if self._flask_test_client is not None:
            name = self.app.config["SESSION_COOKIE_NAME"]
            cookie = self._flask_test_client.get_cookie(name)
            if cookie is not None:
                headers["Cookie"] = "%s=%s" % (name, cookie.value)
        # only the application's query, as in Flask-SocketIO's test client: handlers
        # reading request.args do not see the Engine.IO parameters (EIO, transport)
        query = (self._query_string or "").lstrip("?")
        path = state_of(self.app, self.socketio).server.path()
        environ = EnvironBuilder(path=path + "/", query_string=query,
                                 headers=headers.items()).get_environ()
        environ[TEST_ERRORS_KEY] = self._errors
        return environ

    def _core(self) -> TestClient:
        if self._client is None or self._client.conn.closed:
            server = state_of(self.app, self.socketio).server
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
        self._raise_handler_error()

    def _raise_handler_error(self) -> None:
        if self._errors:
            error = self._errors[0]
            del self._errors[:]
            raise error

    def _require(self, namespace: str) -> None:
        if not self.is_connected(namespace):
            raise RuntimeError("not connected to namespace %s" % namespace)

    def disconnect(self, namespace: Optional[str] = None) -> None:
        """Disconnect from ``namespace``.

        :raises RuntimeError: when it is not connected
        """
        self._require(namespace or "/")
        self._core().disconnect(namespace or "/")
        self._raise_handler_error()

    def is_connected(self, namespace: Optional[str] = None) -> bool:
        """Whether ``namespace`` is connected."""
        return self._client is not None and self._client.is_connected(namespace or "/")

    def emit(self, event: str, *args: Any, callback: bool = False,
             namespace: Optional[str] = None, **ignored: Any) -> Any:
        """Emit to the server and wait until its handlers are idle.

        :param callback: ask for an ack and return it: one value as itself, else the
            list of values (``[]`` for an ack without values); None when the server
            did not ack
        :param namespace: the namespace (default ``/``)
        :param ignored: what Flask-SocketIO's test client accepts and ignores
            (``broadcast``, ``to``, ``include_self``...): a client's emit goes to the
            server only
        :raises RuntimeError: when ``namespace`` is not connected (also after the
            server disconnected it)
        :raises TypeError: when an argument cannot be sent as JSON, or a handler's
            emit or ack could not
        """
        namespace = namespace or "/"
        self._require(namespace)
        values = self._core().emit(event, *args, namespace=namespace, ack=callback)
        self._raise_handler_error()
        if not callback or values is None:
            return None
        if len(values) == 1:
            return ack_result(values)  # one value as itself, as call() returns it
        return list(values)  # several or none: a list, as Flask-SocketIO's test client gives

    def send(self, data: Any, json: bool = False, callback: bool = False,
             namespace: Optional[str] = None) -> Any:
        """Send a ``message`` event, or a ``json`` event with ``json=True``."""
        return self.emit("json" if json else "message", data, callback=callback,
                         namespace=namespace)

    def on(self, event: str, handler: Any) -> None:
        """Answer server-to-client acks for ``event`` (the return value is the ack)."""
        self._core().on(event, handler)

    def get_received(self, namespace: Optional[str] = None) -> List[Dict[str, Any]]:
        """Events received on ``namespace`` since the last call, oldest first.

        Each is ``{"name", "args", "namespace"}``; ``args`` is the list of values,
        except for ``message`` and ``json`` events (``send()``) with one value, whose
        ``args`` is that value, as in Flask-SocketIO.

        :raises RuntimeError: when ``namespace`` is not connected
        """
        namespace = namespace or "/"
        self._require(namespace)
        received = []
        for event in self._core().get_received(namespace):
            entry = dict(event)
            if entry["name"] in _SENT and len(entry["args"]) == 1:
                entry["args"] = entry["args"][0]
            received.append(entry)
        return received

    @property
    def eio_sid(self) -> Optional[str]:
        """The Engine.IO session id of the connection (None before it opened)."""
        return self._client.conn.sid if self._client is not None else None

    @property
    def sid(self) -> Optional[str]:
        """The socket id on ``/``."""
        return self._client.sids.get("/") if self._client is not None else None

    @property
    def connect_error(self) -> Any:
        """The refusal of the last connection attempt to ``/``, if any."""
        return self._client.errors.get("/") if self._client is not None else None
