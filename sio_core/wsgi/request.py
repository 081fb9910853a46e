"""Deprecated: Request moved to ``sio_core.http.request``; importable from here for one
release, with a ``DeprecationWarning``."""
from __future__ import annotations

from typing import List

from ..deprecation import moved_to
from ..http import request

__all__: List[str] = []  # the moved names are served by __getattr__

__getattr__ = moved_to(__name__, request)
