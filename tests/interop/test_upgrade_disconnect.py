"""A server-side disconnect right after connecting, while the polling→websocket upgrade is
under way: the client has paused polling, so the last packets must go out on the websocket."""
from __future__ import annotations

import pytest

from tests.helpers import ServerProcess

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("client", [2, 4])
def test_disconnect_during_the_upgrade_loses_nothing(node, client: int) -> None:
    server = ServerProcess("conformance_app.py")
    try:
        out = node("upgrade_disconnect.js", {"url": server.url, "client": client, "rounds": 30},
                   timeout=120)
    finally:
        logs = server.stop()
    assert out["acked"] == [True] * 30
    assert out["reasons"] == ["io server disconnect"] * 30
    # a probe that comes after the close is refused, which is fine; an upgrade packet
    # refused after a probe is what used to lose the last packets
    assert "without a probe" not in logs
