"""The Python client's own error."""
from __future__ import annotations

from ..errors import SioError

__all__ = ["ConnectionError"]


class ConnectionError(SioError):  # noqa: A001 - the name python-socketio users know
    """The client could not connect (refused, unreachable, timed out)."""
