"""permessage-deflate with the clients that offer it: socket.io-client 2 and 4 under node
(their ``ws`` offers it by default, threshold 1024) and our Python client
(``SocketIOClient(per_message_deflate=True)``), against ``deflate_app.py``.

Each check reads what both sides agreed: the client's negotiated extensions and the
server's answer, which the app acks from the session's environ (``wsconn.DEFLATE_KEY``),
then sends messages above and below the threshold both ways, text and binary.
"""
from __future__ import annotations

import json
import queue
import subprocess
import time
from typing import Any, Dict, Iterator

import pytest

from sio_core.client import SocketIOClient
from tests.helpers import INTEROP, ServerProcess, node_result, require_node

pytestmark = pytest.mark.interop

DEFAULT = "permessage-deflate; server_no_context_takeover"


@pytest.fixture(scope="module", params=["no-takeover", "takeover"])
def server(request) -> Iterator[Any]:
    """The app with the default options, and with the server's context kept (``ws``'s
    and socket.io 2's default)."""
    options: Dict[str, Any] = {}
    if request.param == "takeover":
        options["server_no_context_takeover"] = False
    proc = ServerProcess(str(INTEROP / "deflate_app.py"), "--options", json.dumps(options))
    proc.answer = DEFAULT if request.param == "no-takeover" else "permessage-deflate"
    yield proc
    proc.stop()


@pytest.mark.parametrize("client", ["sio2", "sio4"])
@pytest.mark.parametrize("transports", [["websocket"], ["polling", "websocket"]],
                         ids=["websocket", "upgrade"])
def test_node_clients_negotiate_and_exchange(server, client: str, transports: list) -> None:
    require_node()
    cfg = {"url": server.url, "client": client, "transports": transports}
    proc = subprocess.run(["node", str(INTEROP / "deflate_scenario.js"), json.dumps(cfg)],
                          cwd=str(INTEROP), capture_output=True, timeout=60)
    result = node_result("deflate_scenario.js", proc.returncode, proc.stdout, proc.stderr)
    assert result == {
        "transport": "websocket", "client_extensions": "permessage-deflate",
        "server_extensions": server.answer, "echoed_big": True, "echoed_small": True,
        "binary_ok": True, "big_items": 1428,
    }


@pytest.mark.parametrize("transports", [["websocket"], ["polling", "websocket"]],
                         ids=["websocket", "upgrade"])
def test_python_client_negotiates_and_exchanges(server, transports: list) -> None:
    client = SocketIOClient(reconnection=False, per_message_deflate=True)
    got: "queue.Queue[Any]" = queue.Queue()
    client.on("big", got.put)
    client.connect(server.url, transports=transports)
    try:
        deadline = time.monotonic() + 10
        while client.transport() != "websocket":  # the upgrade runs in the background:
            assert time.monotonic() < deadline  # round trips until it is done
            client.call("ack-echo", "wait", timeout=10)
        assert client.call("extensions", timeout=10) == server.answer
        ws = client._engine._ws
        assert ws is not None and ws.deflate is not None
        assert ws.deflate.params.server_no_context_takeover == (server.answer == DEFAULT)
        big = "x" * 5000 + "é" * 1000
        for _ in range(3):  # the client keeps its context: later ones refer back
            assert client.call("ack-echo", big, timeout=10) == big
        assert client.call("ack-echo", "small", timeout=10) == "small"
        assert client.call("ack-echo", b"\x07" * 4096, timeout=10) == b"\x07" * 4096
        client.emit("ask-big", 20000)
        assert len(got.get(timeout=10)["items"]) == 1428
    finally:
        client.disconnect()


def test_python_client_without_the_option_offers_nothing(server) -> None:
    client = SocketIOClient(reconnection=False)
    client.connect(server.url, transports=["websocket"])
    try:
        assert client.call("extensions", timeout=10) is None
        assert client.call("ack-echo", "y" * 4000, timeout=10) == "y" * 4000
    finally:
        client.disconnect()
