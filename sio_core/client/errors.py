"""The Python client's error: ``sio_core.errors.ConnectionError``, here for the client's
modules and for the ``sio_core.client`` namespace."""
from __future__ import annotations

from ..errors import ConnectionError

__all__ = ["ConnectionError"]
