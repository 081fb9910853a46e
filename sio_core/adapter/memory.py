"""MemoryAdapter: rooms of a single process."""
from __future__ import annotations

from .base import Adapter

__all__ = ["MemoryAdapter"]


class MemoryAdapter(Adapter):
    """The default adapter: every socket and room lives in this process."""
