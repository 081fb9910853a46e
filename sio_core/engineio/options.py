"""Engine.IO server options, validated once."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Tuple

from ..websocket.deflate import DeflateOptions

__all__ = ["EngineOptions", "CookieOptions", "TRANSPORTS"]

#: the transports this server implements, in upgrade order
TRANSPORTS = ("polling", "websocket")


@dataclass(frozen=True)
class CookieOptions:
    """The session cookie set on the handshake response."""

    name: str = "io"
    path: str = "/"
    httponly: bool = True
    samesite: Optional[str] = "Lax"
    secure: bool = False

    def header(self, sid: str) -> str:
        """The ``Set-Cookie`` header value for ``sid``."""
        parts = ["%s=%s" % (self.name, sid), "Path=%s" % self.path]
        if self.httponly:
            parts.append("HttpOnly")
        if self.samesite:
            parts.append("SameSite=%s" % self.samesite)
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)


def _cookie(value: Any) -> Optional[CookieOptions]:
    if value in (None, False):
        return None
    if value is True:
        return CookieOptions()
    if isinstance(value, str):
        return CookieOptions(name=value)
    if isinstance(value, Mapping):
        return CookieOptions(**dict(value))
    if isinstance(value, CookieOptions):
        return value
    raise ValueError("cookie must be False, True, a name, or a dict of CookieOptions fields")


@dataclass(frozen=True)
class EngineOptions:
    """Options of an Engine.IO server (times in seconds, sizes in bytes)."""

    #: interval between heartbeats
    ping_interval: float = 25.0
    #: how long to wait for the other side's heartbeat before closing
    ping_timeout: float = 20.0
    #: largest POST body or websocket message accepted
    max_http_buffer_size: int = 1_000_000
    #: enabled transports
    transports: Tuple[str, ...] = TRANSPORTS
    #: whether polling sessions may upgrade to websocket
    allow_upgrades: bool = True
    #: how long a websocket joining a polling session may take to finish the upgrade
    #: (``2probe`` then ``5``) before it is closed; the session stays on polling
    upgrade_timeout: float = 10.0
    #: session cookie, or None for none
    cookie: Optional[CookieOptions] = None
    #: compress polling responses per Accept-Encoding
    http_compression: bool = True
    #: smallest response body that gets compressed
    compression_threshold: int = 1024
    #: websocket permessage-deflate: False (never negotiated), True (threshold 1024), or a
    #: dict of ``DeflateOptions`` fields; normalised to a ``DeflateOptions`` or None
    per_message_deflate: Any = False
    #: packets a session may hold unsent before it is closed as too slow
    max_queue: int = 10_000
    #: extra keys, kept for the layer above
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ping_interval <= 0 or self.ping_timeout <= 0:
            raise ValueError("ping_interval and ping_timeout must be positive")
        if not self.upgrade_timeout > 0:
            raise ValueError("upgrade_timeout must be positive")
        if self.max_http_buffer_size <= 0:
            raise ValueError("max_http_buffer_size must be positive")
        transports = tuple(self.transports)
        unknown = [t for t in transports if t not in TRANSPORTS]
        if unknown or not transports:
            raise ValueError("transports must be a non-empty subset of %r" % (TRANSPORTS,))
        object.__setattr__(self, "transports", transports)
        object.__setattr__(self, "cookie", _cookie(self.cookie))
        object.__setattr__(self, "per_message_deflate",
                           DeflateOptions.from_option(self.per_message_deflate))
        object.__setattr__(self, "max_http_buffer_size", int(self.max_http_buffer_size))
        if self.max_queue <= 0:
            raise ValueError("max_queue must be positive")

    def upgrades(self, transport: str) -> Tuple[str, ...]:
        """Transports a session opened on ``transport`` may upgrade to."""
        if transport == "polling" and self.allow_upgrades and "websocket" in self.transports:
            return ("websocket",)
        return ()
