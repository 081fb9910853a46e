"""HTTP compression of polling responses: gzip or deflate, per Accept-Encoding."""
from __future__ import annotations

import gzip
import zlib
from typing import Optional, Tuple

__all__ = ["choose_encoding", "compress"]


def choose_encoding(accept_encoding: str) -> Optional[str]:
    """``gzip`` or ``deflate`` when the client accepts it (gzip preferred), else None."""
    accepted = set()
    for item in accept_encoding.split(","):
        name, _, params = item.strip().partition(";")
        if params.strip().replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000"):
            continue
        accepted.add(name.strip().lower())
    for name in ("gzip", "deflate"):
        if name in accepted:
            return name
    return None


def compress(body: bytes, accept_encoding: str, threshold: int) -> Tuple[bytes, Optional[str]]:
    """Compress ``body`` when it is at least ``threshold`` bytes and the client accepts it.

    :returns: the body to send and its ``Content-Encoding`` (None when unchanged)
    """
    if len(body) < threshold:
        return body, None
    encoding = choose_encoding(accept_encoding)
    if encoding == "gzip":
        return gzip.compress(body, compresslevel=6, mtime=0), encoding
    if encoding == "deflate":
        return zlib.compress(body, 6), encoding
    return body, None
