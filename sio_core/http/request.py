"""The HTTP request as the server needs it: one frozen value, read once from a WSGI environ."""
from __future__ import annotations

from types import MappingProxyType
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Tuple
from urllib.parse import parse_qsl

__all__ = ["Request", "header_name", "query_pairs"]


def query_pairs(query_string: str) -> List[Tuple[str, str]]:
    """The ``(key, value)`` pairs of a query string, in order, blank values kept: what
    ``parse_qsl(query_string, keep_blank_values=True)`` gives, split directly when there is
    nothing to unquote (the clients' usual query)."""
    if "%" in query_string or "+" in query_string:
        return parse_qsl(query_string, keep_blank_values=True)
    pairs = []
    for pair in query_string.split("&"):
        if pair:
            key, _, value = pair.partition("=")
            pairs.append((key, value))
    return pairs


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
    def from_environ(cls, environ: Mapping[str, Any],
                     headers: Optional[Dict[str, str]] = None) -> "Request":
        """Read a WSGI environ (first value wins for repeated query keys).

        :param headers: the request headers by lower-case name as this would read them
            from the environ (``Content-Length`` left out, ``Content-Type`` only when not
            empty), when the edge has them at hand: the environ's keys are then not walked
        """
        get = environ.get
        query_string = get("QUERY_STRING", "")
        query: Dict[str, str] = {}
        for key, value in query_pairs(query_string):
            if key not in query:
                query[key] = value
        raw_length = get("CONTENT_LENGTH") or ""
        try:
            length: Optional[int] = int(raw_length) if raw_length else None
        except ValueError:
            length = -1
        content_type = get("CONTENT_TYPE", "")
        if headers is None:
            headers = {}
            names = _HEADER_NAMES
            for key, value in environ.items():
                name = names.get(key, "")
                if name == "":
                    name = header_name(key)
                if name is not None:
                    headers[name] = value
            if content_type:
                headers["content-type"] = content_type
        # positional, in the fields' order (keywords cost a third of building it)
        return tuple.__new__(cls, (
            get("REQUEST_METHOD", "GET").upper(), get("PATH_INFO", "") or "/", query,
            get("HTTP_ORIGIN"), get("HTTP_HOST"), get("wsgi.url_scheme", "http"),
            get("HTTP_ACCEPT_ENCODING", ""), length, content_type,
            get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"),
            get("HTTP_UPGRADE", "").lower() == "websocket", headers, get("REMOTE_ADDR", ""),
            query_string))


#: environ key -> header name (None: not a header), for the keys seen so far
_HEADER_NAMES: Dict[str, Optional[str]] = {}
_MAX_HEADER_NAMES = 512


def header_name(key: str) -> Optional[str]:
    """The lower-case header name of an ``HTTP_`` environ key (None for other keys), as
    ``Request.from_environ`` reads it; remembered for the next requests while the table is
    small (clients choose the keys)."""
    name = key[5:].replace("_", "-").lower() if key.startswith("HTTP_") else None
    if len(_HEADER_NAMES) < _MAX_HEADER_NAMES:
        _HEADER_NAMES[key] = name
    return name
