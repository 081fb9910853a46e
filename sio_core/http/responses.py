"""Every HTTP answer the server gives, built in one place as (status, headers, body)."""
from __future__ import annotations

import json
from typing import List, NamedTuple, Tuple

from ..engineio import RequestError

__all__ = ["Response", "error_body", "error_response", "ok_response", "payload_response",
           "not_found", "STATUS_TEXT"]

Headers = List[Tuple[str, str]]

STATUS_TEXT = {
    200: "200 OK", 204: "204 No Content", 304: "304 Not Modified", 400: "400 Bad Request",
    403: "403 Forbidden", 404: "404 Not Found", 405: "405 Method Not Allowed",
    411: "411 Length Required", 413: "413 Payload Too Large",
    500: "500 Internal Server Error",
}

_TEXT = "text/plain; charset=UTF-8"


class Response(NamedTuple):
    """A complete HTTP answer."""

    status: int
    headers: Headers
    body: bytes

    @property
    def status_line(self) -> str:
        """``"200 OK"`` and the like."""
        return STATUS_TEXT.get(self.status, "%d Unknown" % self.status)

    def with_headers(self, extra: Headers) -> "Response":
        """A copy with ``extra`` headers appended."""
        return self._replace(headers=self.headers + list(extra))


def error_body(error: RequestError) -> bytes:
    """``{"code":N,"message":"..."}`` byte for byte as the reference server writes it
    (``JSON.stringify``'s compact form)."""
    return json.dumps({"code": error.code, "message": error.body_message},
                      separators=(",", ":")).encode("ascii")


def error_response(error: RequestError) -> Response:
    """The answer for a refused request: JSON ``{"code", "message"}``, or an empty body
    where the reference server sends none (413)."""
    if error.empty_body:
        headers: Headers = [("Content-Type", _TEXT)]  # WSGI validators want one
        body = b""
    else:
        headers = [("Content-Type", "application/json")]
        body = error_body(error)
    if error.close_connection:
        headers.append(("Connection", "close"))
    return Response(error.http_status, headers, body)


def ok_response() -> Response:
    """The answer to an accepted POST."""
    return Response(200, [("Content-Type", _TEXT)], b"ok")


def payload_response(body: bytes, content_type: str = _TEXT) -> Response:
    """A polling GET's answer."""
    return Response(200, [("Content-Type", content_type)], body)


def not_found() -> Response:
    """The answer for a path that is not ours."""
    return Response(404, [("Content-Type", _TEXT)], b"Not Found")
