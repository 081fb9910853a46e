"""Our Python client follows the JSON wire rules too, with both back ends, against our
server (both back ends) and the Node reference server."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, ServerProcess
from tests.test_client import NodeServer

CLIENT = Path(__file__).parent / "clientside" / "json_client.py"
JSON_APP = Path(__file__).parent / "transports" / "json_app.py"


@pytest.fixture(scope="module", params=["ours-default", "ours-stdlib", "reference"])
def server(request):
    if request.param == "reference":
        srv = NodeServer()
    else:
        srv = ServerProcess(JSON_APP, "--json", request.param.split("-")[1])
    yield srv
    srv.stop()


@pytest.mark.parametrize("client_json", ["default", "stdlib"])
@pytest.mark.parametrize("eio,transports", [(4, ["websocket"]), (3, ["polling"])])
def test_client_edge_values(server, client_json, eio, transports) -> None:
    proc = subprocess.run(
        [sys.executable, str(CLIENT), json.dumps({"url": server.url, "json": client_json,
                                                  "eio": eio, "transports": transports})],
        cwd=str(ROOT), capture_output=True, timeout=30, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    result = json.loads(proc.stdout.decode().splitlines()[-1])
    assert result == {
        "answer": ["\ud83d", None, "a\udc00b", None],
        "emit": "TypeError", "emit-callback": "TypeError", "call": "TypeError",
        "acks_waiting": 0, "after": "still connected",
    }
