"""The one flag type: broadcasts and a socket's own emits carry ``BroadcastOptions``."""
from __future__ import annotations

import pytest

from sio_core.adapter import BroadcastOptions, MemoryAdapter
from sio_core.errors import check_event
from sio_core.server import BroadcastOperator
from sio_core.socketio import RESERVED_EVENTS


def test_the_builder_changes_only_the_value_it_returns() -> None:
    adapter = MemoryAdapter()
    base = BroadcastOperator(adapter)
    built = base.to("a").to(["b", "c"]).except_("d").volatile.local.compress(False).timeout(2)
    assert base.opts == BroadcastOptions()
    assert built.opts == BroadcastOptions(rooms=frozenset("abc"), except_rooms=frozenset("d"),
                                          volatile=True, local=True, compress=False, timeout=2)
    assert built.rooms == frozenset("abc") and built.except_rooms == frozenset("d")
    assert built.options() is built.opts


def test_the_old_names_of_broadcast_py_warn() -> None:
    from sio_core.server import broadcast

    with pytest.warns(DeprecationWarning, match="BroadcastOptions"):
        assert broadcast.Flags is BroadcastOptions
    with pytest.warns(DeprecationWarning, match="socketio.RESERVED_EVENTS"):
        assert broadcast.RESERVED_EVENTS is RESERVED_EVENTS
    with pytest.warns(DeprecationWarning, match="errors.check_event"):
        assert broadcast.check_event is check_event
    with pytest.raises(AttributeError):
        broadcast.no_such_name  # noqa: B018
