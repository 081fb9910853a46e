"""Binary attachments: bytes anywhere in the arguments ↔ placeholders plus a list of buffers."""
from __future__ import annotations

from typing import Any, List, Tuple

from .errors import ProtocolError

__all__ = ["has_binary", "split_binary", "join_binary"]

_BINARY = (bytes, bytearray, memoryview)


#: types that never hold binary data, looked at before anything else (the usual case)
_SCALARS = frozenset((str, int, float, bool, type(None)))


def has_binary(value: Any) -> bool:
    """Whether ``value`` holds bytes, bytearray or memoryview anywhere."""
    kind = type(value)
    if kind in _SCALARS:
        return False
    if kind is list or kind is tuple:
        items: Any = value
    elif kind is dict:
        items = value.values()
    elif isinstance(value, _BINARY):
        return True
    elif isinstance(value, (list, tuple)):
        items = value
    elif isinstance(value, dict):
        items = value.values()
    else:
        return False
    for item in items:
        if type(item) not in _SCALARS and has_binary(item):
            return True
    return False


def split_binary(value: Any) -> Tuple[Any, List[bytes]]:
    """Replace every binary value by ``{"_placeholder": true, "num": i}``.

    :returns: the converted value and the buffers in placeholder order
    """
    buffers: List[bytes] = []

    def walk(item: Any) -> Any:
        if isinstance(item, _BINARY):
            buffers.append(bytes(item))
            return {"_placeholder": True, "num": len(buffers) - 1}
        if isinstance(item, (list, tuple)):
            return [walk(x) for x in item]
        if isinstance(item, dict):
            return {k: walk(v) for k, v in item.items()}
        return item

    return walk(value), buffers


def join_binary(value: Any, buffers: List[bytes]) -> Any:
    """Put ``buffers`` back in place of their placeholders.

    :raises ProtocolError: on a placeholder pointing at no buffer
    """

    def walk(item: Any) -> Any:
        if isinstance(item, list):
            return [walk(x) for x in item]
        if isinstance(item, dict):
            if item.get("_placeholder") is True and len(item) == 2 and "num" in item:
                num = item["num"]
                if type(num) is not int or not 0 <= num < len(buffers):
                    raise ProtocolError("placeholder %r has no attachment" % (num,))
                return buffers[num]
            return {k: walk(v) for k, v in item.items()}
        return item

    return walk(value)
