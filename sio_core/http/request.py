"""The HTTP request as the server needs it: one frozen value, read once from a WSGI environ."""
from __future__ import annotations

from types import MappingProxyType
from typing import Any, Dict, Mapping, NamedTuple, Optional
from urllib.parse import parse_qsl

__all__ = ["Request"]


class Request(NamedTuple):
    """An HTTP request as the Engine.IO and Socket.IO layers need it.

    Built by the WSGI edge (``Request.from_environ``); everything below it reads this
    value, never the environ.
    """

    method: str
    path: str
    #: query parameters, the first value of a repeated key
    query: Mapping[str, str]
    origin: Optional[str]
    host: Optional[str]
    scheme: str
    accept_encoding: str
    content_length: Optional[int]
    content_type: str
    request_headers: Optional[str]
    websocket: bool
    #: request headers by lower-case name (``content-type`` included when sent)
    headers: Mapping[str, str] = MappingProxyType({})
    #: the client's IP address (``REMOTE_ADDR``)
    remote_addr: str = ""
    #: the raw query string, without ``?``
    query_string: str = ""

    @property
    def url(self) -> str:
        """The path and, when there is one, ``?`` and the query string."""
        return self.path + ("?" + self.query_string if self.query_string else "")

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any]) -> "Request":
        """Read a WSGI environ (first value wins for repeated query keys)."""
        query_string = environ.get("QUERY_STRING", "")
        query: Dict[str, str] = {}
        if "%" in query_string or "+" in query_string:
            pairs = parse_qsl(query_string, keep_blank_values=True)
        else:  # nothing to unquote (the clients' usual query): what parse_qsl would give
            pairs = [pair.partition("=")[::2] for pair in query_string.split("&") if pair]
        for key, value in pairs:
            query.setdefault(key, value)
        raw_length = environ.get("CONTENT_LENGTH") or ""
        try:
            length: Optional[int] = int(raw_length) if raw_length else None
        except ValueError:
            length = -1
        content_type = environ.get("CONTENT_TYPE", "")
        headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items()
                   if key.startswith("HTTP_")}
        if content_type:
            headers["content-type"] = content_type
        return cls(
            method=environ.get("REQUEST_METHOD", "GET").upper(),
            path=environ.get("PATH_INFO", "") or "/",
            query=query,
            origin=environ.get("HTTP_ORIGIN"),
            host=environ.get("HTTP_HOST"),
            scheme=environ.get("wsgi.url_scheme", "http"),
            accept_encoding=environ.get("HTTP_ACCEPT_ENCODING", ""),
            content_length=length,
            content_type=content_type,
            request_headers=environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"),
            websocket=environ.get("HTTP_UPGRADE", "").lower() == "websocket",
            headers=headers,
            remote_addr=environ.get("REMOTE_ADDR", ""),
            query_string=query_string,
        )
