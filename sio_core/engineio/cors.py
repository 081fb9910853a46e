"""The origin policy: who may talk to the server from a browser, and the CORS headers."""
from __future__ import annotations

from typing import Callable, Iterable, List, Optional, Tuple, Union
from urllib.parse import urlsplit

__all__ = ["OriginPolicy", "OriginsSpec"]

OriginsSpec = Union[None, str, Iterable[str], Callable[[str], bool]]
Headers = List[Tuple[str, str]]


def _netloc(origin: str) -> str:
    try:
        return urlsplit(origin).netloc
    except ValueError:  # a malformed Origin header (e.g. "http://[") is nobody's origin
        return ""


def _normalise(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


class OriginPolicy:
    """Decides whether an ``Origin`` is allowed.

    :param origins: ``None`` (same origin only, the default), ``'*'`` (any),
        an origin string, a list of them, or a callable ``fn(origin) -> bool``
    :param credentials: send ``Access-Control-Allow-Credentials: true``
    """

    __slots__ = ("spec", "_allowed", "_fn", "_any", "credentials")

    def __init__(self, origins: OriginsSpec = None, credentials: bool = True) -> None:
        self.spec = origins
        self.credentials = credentials
        self._any = origins == "*"
        self._fn: Optional[Callable[[str], bool]] = None
        self._allowed: frozenset = frozenset()
        if callable(origins):
            self._fn = origins
        elif isinstance(origins, str):
            if not self._any:
                self._allowed = frozenset([_normalise(origins)])
        elif origins is not None:
            self._allowed = frozenset(_normalise(o) for o in origins)
            self._any = "*" in self._allowed

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
            return bool(self._fn(origin))
        return wanted in self._allowed

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
