"""The origin policy: who may talk to the server from a browser, and the CORS headers.

Besides exact origins, the socket.io 2 forms are understood: ``'*:*'`` (anything),
``'host:port'`` entries without a scheme (``'localhost:3000'``, ``'example.com:*'``,
``'*:8080'``), a ``*`` port after a scheme (``'http://localhost:*'``), several entries in
one string separated by spaces, and a Node-style ``fn(origin, callback)`` that calls
``callback(err, allowed)``.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Iterable, List, NamedTuple, Optional, Tuple, Union
from urllib.parse import urlsplit

from . import callables

__all__ = ["OriginPolicy", "OriginsSpec"]

log = logging.getLogger(__name__)

OriginsSpec = Union[None, str, Iterable[str], Callable[..., Any]]
Headers = List[Tuple[str, str]]

_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


class _Pattern(NamedTuple):
    """One socket.io 2 entry: None or ``*`` match anything in their place."""

    scheme: Optional[str]
    host: str
    port: str

    def matches(self, scheme: str, host: str, port: str) -> bool:
        return ((self.scheme is None or self.scheme == scheme)
                and self.host in ("*", host) and self.port in ("*", port))


def _netloc(origin: str) -> str:
    try:
        return urlsplit(origin).netloc
    except ValueError:  # a malformed Origin header (e.g. "http://[") is nobody's origin
        return ""


def _normalise(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def _parts(origin: str) -> Optional[Tuple[str, str, str]]:
    """``(scheme, host, port)`` of a normalised origin, the port defaulted; None if bad."""
    try:
        split = urlsplit(origin)
        host, port = split.hostname, split.port
    except ValueError:
        return None
    if not split.scheme or not host:
        return None
    return split.scheme, host, str(port) if port is not None else \
        _DEFAULT_PORTS.get(split.scheme, "")


def _pattern(entry: str) -> Optional[_Pattern]:
    """The socket.io 2 reading of a normalised entry, or None for a plain origin."""
    scheme: Optional[str] = None
    rest = entry
    if "://" in entry:
        scheme, rest = entry.split("://", 1)
    host, sep, port = rest.rpartition(":")
    host = host.strip("[]")  # "[::1]:3000": urlsplit's hostname has no brackets
    if not sep or not host or "/" in rest or (scheme is not None and port != "*"
                                               and not port.isdigit()):
        return None
    if scheme is not None:
        return _Pattern(scheme, host, port)  # "http://localhost:*", "https://a.com:443"
    if port != "*" and not port.isdigit():
        return None
    return _Pattern(None, host, port)  # "localhost:3000", "a.com:*", "*:8080", "*:*"


class OriginPolicy:
    """Decides whether an ``Origin`` is allowed.

    :param origins: ``None`` (same origin only, the default), ``'*'`` or ``'*:*'`` (any),
        an origin string (several separated by spaces), a list of them, a callable
        ``fn(origin) -> bool``, or ``fn(origin, callback)`` calling ``callback(err, allowed)``
        before it returns. Entries may take socket.io 2's forms: ``'localhost:3000'``
        (any scheme), ``'example.com:*'``, ``'*:8080'``, ``'http://localhost:*'``.
    :param credentials: send ``Access-Control-Allow-Credentials: true``
    """

    __slots__ = ("spec", "_allowed", "_patterns", "_fn", "_node_style", "_any", "credentials")

    def __init__(self, origins: OriginsSpec = None, credentials: bool = True) -> None:
        self.spec = origins
        self.credentials = credentials
        self._fn: Optional[Callable[..., Any]] = None
        self._node_style = False
        entries: List[str] = []
        if callable(origins):
            self._fn = origins
            self._node_style = callables.positional_count(origins) >= 2
        elif isinstance(origins, str):
            entries = origins.split()
        elif origins is not None:
            entries = [o for o in origins]
        normalised = {_normalise(o) for o in entries}
        self._any = bool(normalised & {"*", "*:*"})
        self._allowed = frozenset(normalised)
        self._patterns = tuple(p for p in map(_pattern, sorted(normalised)) if p is not None)

    def allows(self, origin: Optional[str], host: Optional[str], scheme: str) -> bool:
        """Whether a request from ``origin`` to ``host`` over ``scheme`` is allowed.

        Requests without an ``Origin`` header and same-origin requests are always allowed.

        :param origin: the ``Origin`` header, if any
        :param host: the ``Host`` header
        :param scheme: ``http`` or ``https`` as the server sees it
        """
        if not origin:
            return True
        if self._any:
            return True
        wanted = _normalise(origin)
        # same origin: the page's host is the host it talks to (the scheme may differ
        # behind a TLS-terminating proxy; the host cannot be forged by another page)
        if host and _netloc(wanted) == host.lower():
            return True
        if self._fn is not None:
            return self._ask(origin)
        if wanted in self._allowed:
            return True
        parts = _parts(wanted) if self._patterns else None
        return parts is not None and any(p.matches(*parts) for p in self._patterns)

    def _ask(self, origin: str) -> bool:
        assert self._fn is not None
        if not self._node_style:
            return bool(self._fn(origin))
        verdict = callables.node_style_verdict(self._fn, origin)
        if verdict is None:
            log.warning("origins callable %r returned without calling its callback: "
                        "refusing %s (call callback(err, allowed) before returning)",
                        self._fn, origin)
            return False
        return verdict

    def headers(self, origin: Optional[str]) -> Headers:
        """CORS headers for an allowed request from ``origin``."""
        if not origin:
            return []
        headers = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        if self.credentials:
            headers.append(("Access-Control-Allow-Credentials", "true"))
        return headers

    def preflight_headers(self, origin: Optional[str], requested_headers: Optional[str]) -> Headers:
        """Headers answering an allowed ``OPTIONS`` preflight."""
        headers = self.headers(origin)
        headers.append(("Access-Control-Allow-Methods", "GET, POST, OPTIONS"))
        if requested_headers:
            headers.append(("Access-Control-Allow-Headers", requested_headers))
        headers.append(("Access-Control-Max-Age", "86400"))
        return headers
