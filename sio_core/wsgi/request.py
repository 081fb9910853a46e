"""The few things the server reads from a WSGI environ, as one frozen value."""
from __future__ import annotations

from typing import Any, Dict, Mapping, NamedTuple, Optional
from urllib.parse import parse_qsl

__all__ = ["Request"]


class Request(NamedTuple):
    """An HTTP request as the Engine.IO server needs it."""

    method: str
    path: str
    query: Mapping[str, str]
    origin: Optional[str]
    host: Optional[str]
    scheme: str
    accept_encoding: str
    content_length: Optional[int]
    content_type: str
    request_headers: Optional[str]
    websocket: bool

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any]) -> "Request":
        """Read a WSGI environ (first value wins for repeated query keys)."""
        query: Dict[str, str] = {}
        for key, value in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True):
            query.setdefault(key, value)
        raw_length = environ.get("CONTENT_LENGTH") or ""
        try:
            length: Optional[int] = int(raw_length) if raw_length else None
        except ValueError:
            length = -1
        return cls(
            method=environ.get("REQUEST_METHOD", "GET").upper(),
            path=environ.get("PATH_INFO", "") or "/",
            query=query,
            origin=environ.get("HTTP_ORIGIN"),
            host=environ.get("HTTP_HOST"),
            scheme=environ.get("wsgi.url_scheme", "http"),
            accept_encoding=environ.get("HTTP_ACCEPT_ENCODING", ""),
            content_length=length,
            content_type=environ.get("CONTENT_TYPE", ""),
            request_headers=environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"),
            websocket=environ.get("HTTP_UPGRADE", "").lower() == "websocket",
        )
