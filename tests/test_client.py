"""sio_core.client against our server and the reference Node server socket.io@4."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import INTEROP, NODE_MODULES, ROOT, ServerProcess, free_port, wait_for_port

DRIVER = Path(__file__).parent / "clientside" / "driver.py"
TRANSPORTS = [["websocket"], ["polling"], ["polling", "websocket"]]

pytestmark = pytest.mark.interop


class NodeServer:
    """The reference socket.io@4 server running the conformance contract."""

    def __init__(self, port: int | None = None) -> None:
        if not (NODE_MODULES / "socket.io").is_dir():
            pytest.fail("socket.io is missing: run `npm ci --prefix tests/interop`")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(["node", str(INTEROP / "reference_server.js"),
                                      str(self.port)], cwd=str(INTEROP),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, proc=self.proc)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)


def start(kind: str, port: int | None = None):
    if kind == "ours":
        return ServerProcess("conformance_app.py", port=port)
    return NodeServer(port)


@pytest.fixture(params=["ours", "reference"])
def server(request):
    srv = start(request.param)
    yield srv
    srv.stop()


def drive(config: dict, timeout: float = 60) -> list:
    proc = subprocess.run([sys.executable, str(DRIVER), json.dumps(config)], cwd=str(ROOT),
                          capture_output=True, timeout=timeout,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr.decode()
    return [json.loads(line) for line in proc.stdout.decode().splitlines()]


@pytest.mark.parametrize("eio", [3, 4])
@pytest.mark.parametrize("transports", TRANSPORTS, ids="+".join)
def test_exchange(server, eio, transports) -> None:
    [result] = drive({"scenario": "exchange", "url": server.url, "eio": eio,
                      "transports": transports})
    assert result["welcome_matches"] is True
    assert result["ack"] == ["x", {"bin": {"b64": "AP8="}}, ["ü😀"]]
    assert result["answer"] == 42
    assert result["echo"] == [{"b64": "AQI="}, {"n": [{"b64": "Aw=="}]}]
    assert result["chat_echo"] == ["in chat"]
    assert result["listed"] is True
    assert result["ordered"] is True
    assert result["transport"] == transports[-1]
    if eio == 3:
        assert result["chat_sid"].startswith("/chat#")
    assert result["after_kick"] == "Disconnected"
    assert result["stopped"] is True


@pytest.mark.parametrize("eio", [3, 4])
def test_refused_namespace_raises(server, eio) -> None:
    [result] = drive({"scenario": "refused", "url": server.url, "eio": eio,
                      "transports": ["websocket"]})
    assert "not authorized" in result["error"]


def test_ack_timeout_and_one_shot_helper(server) -> None:
    first, second = drive({"scenario": "timeout", "url": server.url, "eio": 4,
                           "transports": ["polling", "websocket"]})
    assert first == {"error": "AckTimeout"}
    assert second == {"once": ["a", 1]}


@pytest.mark.parametrize("kind", ["ours", "reference"])
@pytest.mark.parametrize("eio,transports", [(4, ["websocket"]), (3, ["polling", "websocket"]),
                                            (4, ["polling"])])
def test_reconnects_after_server_restart(kind, eio, transports) -> None:
    srv = start(kind)
    proc = subprocess.Popen([sys.executable, str(DRIVER), json.dumps({
        "scenario": "reconnect", "url": srv.url, "eio": eio, "transports": transports})],
        cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        ready = json.loads(proc.stdout.readline())
        assert ready["ready"] is True
        srv.stop()
        srv = start(kind, port=srv.port)
        out, err = proc.communicate(timeout=40)
        assert proc.returncode == 0, err.decode()
        result = json.loads(out.decode().splitlines()[-1])
    finally:
        srv.stop()
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()
    assert result["answer"] == "again"
    assert result["different"] is True
    assert result["reasons"][0] in ("transport close", "transport error")
