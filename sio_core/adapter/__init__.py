"""Adapters: room bookkeeping and broadcast, in memory or across nodes."""
from .base import Adapter, BroadcastOptions
from .memory import MemoryAdapter

__all__ = ["Adapter", "BroadcastOptions", "MemoryAdapter"]
