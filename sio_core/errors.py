"""The errors sio_core users meet, gathered from every layer."""
from __future__ import annotations

from typing import Any, Optional

from .engineio.errors import EngineError, RequestError
from .engineio.errors import ProtocolError as EngineProtocolError
from .socketio.errors import ProtocolError as SocketProtocolError
from .socketio.events import RESERVED_EVENTS

__all__ = [
    "SioError", "AckTimeout", "Disconnected", "ConnectionError", "ConnectionRefusedError",
    "ReservedEventError",
    "EngineError", "EngineProtocolError", "RequestError", "SocketProtocolError", "check_event",
]


class SioError(Exception):
    """Base class of the errors raised by sio_core's API."""


class AckTimeout(SioError, TimeoutError):
    """The client did not acknowledge in time.

    :param message: what timed out
    :param responses: the answers collected before the timeout (broadcast acks)
    """

    def __init__(self, message: str = "operation has timed out", responses: Any = None) -> None:
        super().__init__(message)
        self.responses = responses if responses is not None else []


class Disconnected(SioError):
    """The client disconnected before it acknowledged, or is not connected."""


class ConnectionError(SioError):  # noqa: A001 - the name python-socketio users know
    """The Python client could not connect; the message and ``cause`` say why.

    :param message: what happened, naming the URL
    :param cause: ``"refused"`` (nothing listens), ``"unreachable"`` (another socket error),
        ``"timeout"`` (no answer in time), ``"http"`` (an HTTP answer other than the one
        expected: ``status`` and ``body``), ``"namespace"`` (the server refused
        ``namespace``: its message in the text, what it sent in ``data``), ``"closed"`` (the
        connection closed before it was established) or ``"protocol"`` (a malformed answer)
    """

    def __init__(self, message: str, cause: str = "protocol", *, url: Optional[str] = None,
                 status: Optional[int] = None, body: Optional[str] = None,
                 namespace: Optional[str] = None, data: Any = None) -> None:
        super().__init__(message)
        self.cause = cause
        self.url = url
        self.status = status
        self.body = body
        self.namespace = namespace
        self.data = data


class ConnectionRefusedError(SioError):
    """Raise (or pass to ``next``) in a connect middleware/handler to refuse a connection.

    :param message: sent to the client
    :param data: optional extra data sent along (protocol 5 clients get it as ``err.data``)
    """

    def __init__(self, message: str = "Connection refused", data: Optional[Any] = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data


class ReservedEventError(SioError, ValueError):
    """An application tried to emit a reserved event name."""


def check_event(event: str) -> None:
    """Refuse a reserved event name (``connect``, ``disconnect``...) before it is emitted.

    :raises ReservedEventError: when ``event`` is reserved
    """
    if event in RESERVED_EVENTS:
        raise ReservedEventError('"%s" is a reserved event name' % event)
