"""Serving the browser client bundle from package data, as socket.io's ``serveClient`` does.

``<path>/socket.io.js`` (readable), ``<path>/socket.io.min.js`` and its source map
``<path>/socket.io.min.js.map`` (also answered at ``<path>/socket.io.js.map``). Each
answer carries a strong ``ETag`` (a hash of the bytes sent) and is answered with 304 on a
matching ``If-None-Match``; it is gzipped when ``Accept-Encoding`` allows.
``Cache-Control: public, max-age=0`` makes browsers revalidate every time, as the
reference server does: the URL is not versioned, so a new release must not be hidden
behind a cache lifetime, and the revalidation costs one 304.
"""
from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping, NamedTuple, Optional

from ..http import Response, choose_encoding, not_found

__all__ = ["serve_bundle", "BUNDLE_FILES"]

_JS = "application/javascript; charset=utf-8"
_JSON = "application/json; charset=utf-8"

#: URL name under ``<path>/`` → (file in ``sio_core/static``, Content-Type)
BUNDLE_FILES = {
    "socket.io.js": ("socket.io.js", _JS),
    "socket.io.min.js": ("socket.io.min.js", _JS),
    "socket.io.min.js.map": ("socket.io.min.js.map", _JSON),
    "socket.io.js.map": ("socket.io.min.js.map", _JSON),
}

_CACHE_CONTROL = "public, max-age=0"


class _Asset(NamedTuple):
    """One file, ready to send plain or gzipped."""

    body: bytes
    etag: str
    gzipped: bytes
    gzip_etag: str


@lru_cache(maxsize=None)
def _asset(filename: str) -> _Asset:
    body = (resources.files("sio_core") / "static" / filename).read_bytes()
    digest = hashlib.sha256(body).hexdigest()[:32]
    return _Asset(body, '"%s"' % digest, gzip.compress(body, compresslevel=9, mtime=0),
                  '"%s-gz"' % digest)


def _matches(if_none_match: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` value names ``etag`` (weak comparison, as RFC 9110)."""
    if if_none_match.strip() == "*":
        return True
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate == etag:
            return True
    return False


def serve_bundle(req: Any, path: str, environ: Optional[Mapping[str, Any]] = None,
                 enabled: bool = True) -> Optional[Response]:
    """The bundle file a GET ``req`` asks for under ``path``, or None for anything else.

    :param req: the request (a ``sio_core.http.Request``)
    :param path: the Socket.IO path, e.g. ``/socket.io``
    :param environ: the WSGI environ, read for ``If-None-Match`` (without it, or without
        that header, the file is always sent in full)
    :param enabled: False (``serve_client=False``) answers the bundle's URLs with 404
    """
    prefix = "/" + path.strip("/") + "/"
    if not req.path.startswith(prefix) or req.method != "GET":
        return None
    entry = BUNDLE_FILES.get(req.path[len(prefix):])
    if entry is None:
        return None
    if not enabled:
        return not_found()
    filename, content_type = entry
    asset = _asset(filename)
    if choose_encoding(req.accept_encoding) == "gzip":
        body, etag, extra = asset.gzipped, asset.gzip_etag, [("Content-Encoding", "gzip")]
    else:
        body, etag, extra = asset.body, asset.etag, []
    headers = [("ETag", etag), ("Cache-Control", _CACHE_CONTROL), ("Vary", "Accept-Encoding")]
    if_none_match = environ.get("HTTP_IF_NONE_MATCH") if environ is not None else None
    if if_none_match is not None and _matches(if_none_match, etag):
        return Response(304, headers, b"")
    return Response(200, [("Content-Type", content_type)] + headers + extra, body)
