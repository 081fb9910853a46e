"""Errors of the Engine.IO layer: one ProtocolError, and RequestErrors carrying spec codes."""
from __future__ import annotations

from typing import Optional

from .reasons import CloseReason

__all__ = [
    "EngineError",
    "ProtocolError",
    "RequestError",
    "TransportUnknown",
    "SessionUnknown",
    "BadHandshakeMethod",
    "BadRequest",
    "Forbidden",
    "UnsupportedProtocolVersion",
    "PayloadTooLarge",
    "OverlappingRequest",
    "UnreadableBody",
]


class EngineError(Exception):
    """Base class of every error raised by the Engine.IO layer."""


class ProtocolError(EngineError):
    """Malformed Engine.IO input; the session it came from is closed with ``reason``."""

    #: close reason reported to the layer above
    reason: CloseReason = CloseReason.PARSE_ERROR

    def __init__(self, message: str, reason: Optional[CloseReason] = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class RequestError(EngineError):
    """An HTTP request the server refuses, rendered as ``{"code", "message"}`` JSON.

    The body carries ``message``, worded exactly as the reference server words it for
    ``code``; the ``detail`` is for the log (see ``public_detail``).
    """

    #: Engine.IO error code (0-5) as the specification numbers them
    code: int = 3
    #: the message sent for ``code``, as the reference server words it
    message: str = "Bad request"
    #: send ``detail`` instead of ``message`` (where ours deliberately says more)
    public_detail: bool = False
    #: answer with an empty body instead of the JSON (as the reference does for this case)
    empty_body: bool = False
    #: HTTP status of the answer
    http_status: int = 400
    #: the request's body was not read to its end: the connection must close after the
    #: answer, or the rest of the body would be read as the next request
    close_connection: bool = False

    def __init__(self, detail: Optional[str] = None) -> None:
        super().__init__(detail or self.message)
        #: a more precise explanation, logged (and sent only when ``public_detail``)
        self.detail = detail or self.message

    @property
    def body_message(self) -> str:
        """The ``message`` of the JSON body."""
        return self.detail if self.public_detail else self.message


class TransportUnknown(RequestError):
    """The ``transport`` query parameter names no enabled transport."""

    code = 0
    message = "Transport unknown"


class SessionUnknown(RequestError):
    """The ``sid`` query parameter names no live session."""

    code = 1
    message = "Session ID unknown"


class BadHandshakeMethod(RequestError):
    """A handshake was attempted with a method other than GET."""

    code = 2
    message = "Bad handshake method"


class BadRequest(RequestError):
    """Anything else malformed about the request."""

    code = 3
    message = "Bad request"


class UnreadableBody(BadRequest):
    """A POST body cut short, or with broken chunked framing."""

    close_connection = True


class Forbidden(RequestError):
    """Refused by the origin policy or the ``allow_request`` hook."""

    code = 4
    message = "Forbidden"
    http_status = 403


class UnsupportedProtocolVersion(RequestError):
    """``EIO`` is neither 3 nor 4."""

    code = 5
    message = "Unsupported protocol version"
    public_detail = True  # ours also says which versions the server speaks


class PayloadTooLarge(RequestError):
    """A POST body larger than ``max_http_buffer_size``."""

    code = 3
    message = "Payload too large"
    http_status = 413
    close_connection = True
    empty_body = True


class OverlappingRequest(BadRequest):
    """A second GET (or POST) while one is in flight; the session must be closed."""

    message = "Overlapping polling request"
