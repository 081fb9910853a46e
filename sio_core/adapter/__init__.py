"""Adapters: room bookkeeping and broadcast, in memory or across nodes.

``RedisAdapter`` and ``RedisStreamsAdapter`` are imported from here on first use (they need
the ``redis`` extra, which ``import sio_core`` does not), so they are not in ``__all__``.
"""
from typing import Any

from .base import AdaptedNamespace, AdaptedSocket, Adapter, BroadcastOptions
from .memory import MemoryAdapter

__all__ = ["AdaptedNamespace", "AdaptedSocket", "Adapter", "BroadcastOptions", "MemoryAdapter"]


def __getattr__(name: str) -> Any:
    """The Redis adapters, imported when first asked for."""
    if name == "RedisAdapter":
        from .redis import RedisAdapter
        return RedisAdapter
    if name == "RedisStreamsAdapter":
        from .redis_streams import RedisStreamsAdapter
        return RedisStreamsAdapter
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
