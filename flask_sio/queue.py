"""Message-queue URLs → adapters (``message_queue="redis://..."``)."""
from __future__ import annotations

from typing import Any

__all__ = ["adapter_for_url"]


def adapter_for_url(url: str, channel: str) -> Any:
    """An adapter factory for ``url``.

    :raises ValueError: for schemes without an adapter
    """
    if url.startswith(("redis://", "rediss://", "unix://")):
        from sio_core.adapter.redis import RedisAdapter

        return RedisAdapter.factory(url=url, channel=channel)
    raise ValueError("no adapter for message queue %r (redis:// is supported)" % url)
