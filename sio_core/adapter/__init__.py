"""Adapters: room bookkeeping and broadcast, in memory or across nodes."""
from .base import AdaptedNamespace, AdaptedSocket, Adapter, BroadcastOptions
from .memory import MemoryAdapter

__all__ = ["AdaptedNamespace", "AdaptedSocket", "Adapter", "BroadcastOptions", "MemoryAdapter"]
