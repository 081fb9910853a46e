"""Serving the browser client bundle from package data (filled in by the client issue)."""
from __future__ import annotations

from typing import Any, Optional

from .responses import Response

__all__ = ["serve_bundle"]


def serve_bundle(req: Any, path: str) -> Optional[Response]:
    """The bundle file for ``req``, or None when the request is not for one."""
    return None
