"""A broadcast is framed once per Engine.IO version, not once per recipient."""
from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import ServerProcess
from tests.transports.wsclient import sio_connect

FRAMING_APP = Path(__file__).with_name("framing_app.py")


def test_a_broadcast_to_twenty_websockets_is_framed_once_per_version() -> None:
    server = ServerProcess(FRAMING_APP)
    clients = []
    try:
        clients = [sio_connect(server.port, 3 if i % 2 else 4)[0] for i in range(20)]
        for ws in clients:
            ws.settimeout(5)
        clients[0].send('42["bcast","héllo"]')
        for ws in clients:
            assert ws.recv() == '42["news","héllo"]'
        clients[0].send('421["frames"]')
        assert json.loads(clients[0].recv()[3:]) == [{"3": 1, "4": 1}]
    finally:
        for ws in clients:
            ws.close(None)
        server.stop()
